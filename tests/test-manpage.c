/*
 * test-manpage.c - callout-milter.conf(5) documents every key of the
 * config table (milter/conf.c), once, with the table's type, default and
 * reloadability, and documents no key the table lacks.
 *
 * In the KEYS section of the page each key starts an item whose tag line
 * reads, once the font escapes are removed:
 *
 *   Name (type; default value; reloadable)
 *   Name (type; default empty; restart)
 *
 * where type is config_type_name() and "reloadable" means that a SIGHUP
 * applies a change.  The page is $top_srcdir/milter/callout-milter.conf.5,
 * or argv[1].  Each key missing, repeated or described differently from
 * the table is one failed check, named after the key.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../milter/conf.h"
#include "tap.h"

#define MAN_LINE_MAX	1024
#define MAN_LINES_MAX	10000

/* Remove troff font and character escapes: the text a reader sees. */
static void
manpage_plain(const char *in, char *out_r, size_t size)
{
	size_t n = 0;

	while (*in != '\0' && n + 1 < size) {
		if (in[0] == '\\' && in[1] == 'f' && in[2] != '\0') {
			in += 3;
		} else if (in[0] == '\\' && in[1] == '-') {
			out_r[n++] = '-';
			in += 2;
		} else if (in[0] == '\\' && in[1] == '&') {
			in += 2;
		} else if (in[0] == '\\' && in[1] == 'e') {
			out_r[n++] = '\\';
			in += 2;
		} else {
			out_r[n++] = *in++;
		}
	}
	out_r[n] = '\0';
}

/* The tag line the table asks for. */
static void
manpage_expected(const struct config_key *k, char *out_r, size_t size)
{
	(void)snprintf(out_r, size, "%s (%s; default %s; %s)", k->name,
	    config_type_name(k), k->def[0] != '\0' ? k->def : "empty",
	    k->reload ? "reloadable" : "restart");
}

/* The first word of a tag line, if it is followed by " (". */
static bool
manpage_tag_name(const char *plain, char *name_r, size_t size)
{
	size_t len = strcspn(plain, " ");

	if (len == 0 || len >= size || strncmp(plain + len, " (", 2) != 0)
		return false;
	memcpy(name_r, plain, len);
	name_r[len] = '\0';
	return true;
}

static void
manpage_check(FILE *fp)
{
	size_t n = config_key_count(), unknown = 0, items = 0, lines = 0;
	unsigned *seen = calloc(n, sizeof(*seen));
	bool *right = calloc(n, sizeof(*right));
	char line[MAN_LINE_MAX], plain[MAN_LINE_MAX], want[MAN_LINE_MAX];
	char name[64];
	bool in_keys = false, tag_next = false;

	if (!tap_ok(seen != NULL && right != NULL, "memory"))
		goto done;
	while (fgets(line, sizeof(line), fp) != NULL &&
	    lines++ < MAN_LINES_MAX) {
		const struct config_key *k;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".SH ", 4) == 0) {
			in_keys = strcmp(line, ".SH KEYS") == 0;
			continue;
		}
		if (!in_keys)
			continue;
		if (strcmp(line, ".TP") == 0) {
			tag_next = true;
			continue;
		}
		if (!tag_next)
			continue;
		tag_next = false;
		manpage_plain(line, plain, sizeof(plain));
		if (!manpage_tag_name(plain, name, sizeof(name)))
			continue;
		items++;
		k = config_key_find(name);
		if (k == NULL || strcmp(k->name, name) != 0) {
			tap_diag("man page: \"%s\" is not a key of the table",
			    name);
			unknown++;
			continue;
		}
		seen[k - config_key_at(0)]++;
		manpage_expected(k, want, sizeof(want));
		if (strcmp(plain, want) == 0) {
			right[k - config_key_at(0)] = true;
		} else {
			tap_diag("man page: \"%s\"", plain);
			tap_diag("   table: \"%s\"", want);
		}
	}
	tap_ok(items >= n, "the KEYS section has %zu items, the table %zu keys",
	    items, n);
	tap_is_int((long long)unknown, 0, "no unknown keys documented");
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = config_key_at(i);

		if (!tap_ok(seen[i] == 1 && right[i],
		    "%s documented once with type, default and reload", k->name))
			tap_diag("%s: %u items%s", k->name, seen[i],
			    seen[i] > 0 && !right[i] ? ", tag line differs" : "");
	}
done:
	free(seen);
	free(right);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *fp;

	if (argc > 1)
		(void)snprintf(path, sizeof(path), "%s", argv[1]);
	else
		(void)snprintf(path, sizeof(path),
		    "%s/milter/callout-milter.conf.5", top != NULL ? top : ".");
	fp = fopen(path, "r");
	if (!tap_ok(fp != NULL, "open %s", path))
		return tap_done();
	manpage_check(fp);
	fclose(fp);
	return tap_done();
}
