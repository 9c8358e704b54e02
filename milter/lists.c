/*
 * lists.c - allow-lists: parse list values and files into entries, and
 * match client addresses, host names, domains and mail addresses against
 * them (syntax and semantics in lists.h).
 *
 * Guarantees: every entry is checked and every regex compiled when the
 * list is built, so matching cannot fail; entries and files are bounded
 * (LISTS_ENTRY_MAX characters an entry, LISTS_ENTRIES_MAX entries a
 * list); a built list is never written again, so matching is thread
 * safe.  Failure: -1 with a one-line reason, nothing logged here.
 *
 * XXX: matching is a linear scan.  Allow-lists are short in practice; a
 * list of tens of thousands of exact entries would want a hash.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"

enum lists_how {
	HOW_EXACT = 0,	/* whole string, ignoring case */
	HOW_SUFFIX,	/* text is ".example.com": a proper sub-domain */
	HOW_GLOB,	/* '*' wildcards */
	HOW_REGEX,
};

struct lists_entry {
	enum lists_how how;
	char *text;
	regex_t re;		/* HOW_REGEX only */
};

struct allowlist {
	enum lists_kind kind;
	cv_netlist *net;	/* LISTS_HOSTS */
	struct lists_entry *entries;
	size_t count;
	size_t size;
};

allowlist *
lists_new(enum lists_kind kind)
{
	allowlist *list = calloc(1, sizeof(*list));

	if (list == NULL)
		return NULL;
	list->kind = kind;
	if (kind == LISTS_HOSTS && (list->net = cv_netlist_new()) == NULL) {
		free(list);
		return NULL;
	}
	return list;
}

void
lists_free(allowlist **list_p)
{
	allowlist *list;

	if (list_p == NULL || (list = *list_p) == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		if (list->entries[i].how == HOW_REGEX)
			regfree(&list->entries[i].re);
		free(list->entries[i].text);
	}
	free(list->entries);
	cv_netlist_free(&list->net);
	free(list);
	*list_p = NULL;
}

enum lists_kind
lists_kind_of(const allowlist *list)
{
	return list->kind;
}

size_t
lists_count(const allowlist *list)
{
	if (list == NULL)
		return 0;
	return list->kind == LISTS_HOSTS ? cv_netlist_count(list->net) :
	    list->count;
}

const cv_netlist *
lists_netlist(const allowlist *list)
{
	return list != NULL ? list->net : NULL;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

/* Characters a host name or domain pattern may hold: letters, digits,
 * '-', '.', '_', '*' and 8-bit bytes (U-labels). */
static bool
lists_name_chars_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!isalnum(c) && c < 0x80 && strchr("-._*", c) == NULL)
			return false;
	}
	return true;
}

/* Printable, no white space, no control characters. */
static bool
lists_address_chars_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

static int
lists_grow(allowlist *list, char *error_r, size_t error_size)
{
	struct lists_entry *n;
	size_t size;

	if (list->count < list->size)
		return 0;
	if (list->count >= LISTS_ENTRIES_MAX) {
		snprintf(error_r, error_size, "more than %d entries",
			 LISTS_ENTRIES_MAX);
		return -1;
	}
	size = list->size == 0 ? 8 : list->size * 2;
	n = realloc(list->entries, size * sizeof(*n));
	if (n == NULL) {
		snprintf(error_r, error_size, "out of memory");
		return -1;
	}
	list->entries = n;
	list->size = size;
	return 0;
}

static int
lists_add_regex(struct lists_entry *e, const char *entry, char *error_r,
		size_t error_size)
{
	size_t len = strlen(entry);
	char *pattern;
	int rc;

	if (len < 3 || entry[len - 1] != '/') {
		snprintf(error_r, error_size,
			 "regex \"%s\" lacks its closing '/'", entry);
		return -1;
	}
	if ((pattern = strndup(entry + 1, len - 2)) == NULL) {
		snprintf(error_r, error_size, "out of memory");
		return -1;
	}
	rc = regcomp(&e->re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	free(pattern);
	if (rc != 0) {
		char why[128];

		regerror(rc, &e->re, why, sizeof(why));
		regfree(&e->re);
		snprintf(error_r, error_size, "bad regex \"%s\": %s", entry,
			 why);
		return -1;
	}
	e->how = HOW_REGEX;
	return 0;
}

/* Classify a name or address pattern; checks its characters. */
static int
lists_classify(const allowlist *list, const char *entry, struct lists_entry *e,
	       const char **text_r, char *error_r, size_t error_size)
{
	*text_r = entry;
	if (list->kind == LISTS_ADDRESSES) {
		if (!lists_address_chars_ok(entry) ||
		    strchr(entry, '@') == NULL) {
			snprintf(error_r, error_size,
				 "bad address pattern \"%s\" (want "
				 "user@domain, @domain, a '*' pattern or "
				 "/regex/)", entry);
			return -1;
		}
		e->how = strchr(entry, '*') != NULL || entry[0] == '@' ?
		    HOW_GLOB : HOW_EXACT;
		return 0;
	}
	if (!lists_name_chars_ok(entry) || strcmp(entry, ".") == 0 ||
	    strstr(entry, "..") != NULL) {
		snprintf(error_r, error_size, "bad %s pattern \"%s\"",
			 list->kind == LISTS_DOMAINS ? "domain" : "host name",
			 entry);
		return -1;
	}
	if (strncmp(entry, "*.", 2) == 0 && strchr(entry + 2, '*') == NULL) {
		e->how = HOW_SUFFIX;
		*text_r = entry + 1;
	} else if (entry[0] == '.' && strchr(entry, '*') == NULL)
		e->how = HOW_SUFFIX;
	else
		e->how = strchr(entry, '*') != NULL ? HOW_GLOB : HOW_EXACT;
	return 0;
}

/* "*" followed by text, on the heap. */
static char *
lists_star_dup(const char *text)
{
	size_t len = strlen(text);
	char *s = malloc(len + 2);

	if (s != NULL) {
		s[0] = '*';
		memcpy(s + 1, text, len + 1);
	}
	return s;
}

int
lists_add(allowlist *list, const char *entry, char *error_r,
	  size_t error_size)
{
	struct lists_entry e = {0};
	const char *text;
	size_t len = strlen(entry);

	if (len == 0 || len > LISTS_ENTRY_MAX) {
		snprintf(error_r, error_size, "entry of %zu characters", len);
		return -1;
	}
	if (list->kind == LISTS_HOSTS) {
		char why[CV_ERROR_MAX];

		if (cv_netlist_add(list->net, entry, why, sizeof(why)) != 0) {
			snprintf(error_r, error_size, "%s", why);
			return -1;
		}
		return 0;
	}
	if (lists_grow(list, error_r, error_size) != 0)
		return -1;
	if (entry[0] == '/') {
		if (lists_add_regex(&e, entry, error_r, error_size) != 0)
			return -1;
		text = entry;
	} else if (lists_classify(list, entry, &e, &text, error_r,
				  error_size) != 0)
		return -1;
	/* "@example.com" stands for "*@example.com" */
	if (text[0] == '@')
		e.text = lists_star_dup(text);
	else
		e.text = strdup(text);
	if (e.text == NULL) {
		if (e.how == HOW_REGEX)
			regfree(&e.re);
		snprintf(error_r, error_size, "out of memory");
		return -1;
	}
	/* names compare without their trailing dot */
	len = strlen(e.text);
	if (list->kind != LISTS_ADDRESSES && e.how != HOW_REGEX && len > 1 &&
	    e.text[len - 1] == '.')
		e.text[len - 1] = '\0';
	list->entries[list->count++] = e;
	return 0;
}

/* Read one file: one entry per line, '#' comments, blank lines. */
static int
lists_load_file(allowlist *list, const char *path, char *error_r,
		size_t error_size)
{
	char line[LISTS_ENTRY_MAX + 2];
	char why[CV_ERROR_MAX + 64];
	unsigned lineno = 0;
	int rc = 0;
	FILE *fp;

	if (path[0] != '/') {
		snprintf(error_r, error_size,
			 "file:%s: the path must be absolute", path);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(error_r, error_size, "cannot read \"%s\": %s", path,
			 strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);
		char *s = line;

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(fp)) {
			snprintf(error_r, error_size,
				 "%s:%u: line longer than %d characters", path,
				 lineno, LISTS_ENTRY_MAX);
			rc = -1;
			break;
		}
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "file:", 5) == 0) {
			snprintf(error_r, error_size,
				 "%s:%u: a list file cannot name another file",
				 path, lineno);
			rc = -1;
		} else if (lists_add(list, s, why, sizeof(why)) != 0) {
			snprintf(error_r, error_size, "%s:%u: %s", path, lineno,
				 why);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(error_r, error_size, "cannot read \"%s\": %s", path,
			 strerror(errno));
		rc = -1;
	}
	fclose(fp);
	return rc;
}

static bool
lists_is_sep(char c)
{
	return c == ',' || isspace((unsigned char)c);
}

/* Length of the token at s: a regex runs to a '/' followed by a
 * separator or the end; anything else to the next separator. */
static size_t
lists_token_len(const char *s)
{
	size_t n = 0;

	if (s[0] == '/') {
		for (n = 1; s[n] != '\0'; n++)
			if (s[n] == '/' && (s[n + 1] == '\0' ||
					    lists_is_sep(s[n + 1])))
				return n + 1;
		return n;	/* unclosed: lists_add says so */
	}
	while (s[n] != '\0' && !lists_is_sep(s[n]))
		n++;
	return n;
}

int
lists_parse(allowlist *list, const char *value, char *error_r,
	    size_t error_size)
{
	const char *s = value;

	for (;;) {
		char entry[LISTS_ENTRY_MAX + 1];
		size_t n;
		int rc;

		while (lists_is_sep(*s))
			s++;
		if (*s == '\0')
			return 0;
		n = lists_token_len(s);
		if (n > LISTS_ENTRY_MAX) {
			snprintf(error_r, error_size,
				 "entry longer than %d characters",
				 LISTS_ENTRY_MAX);
			return -1;
		}
		memcpy(entry, s, n);
		entry[n] = '\0';
		s += n;
		if (strncmp(entry, "file:", 5) == 0)
			rc = lists_load_file(list, entry + 5, error_r,
					     error_size);
		else
			rc = lists_add(list, entry, error_r, error_size);
		if (rc != 0)
			return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

/* '*' matches any run of characters; ASCII case ignored.  The classic
 * two-pointer walk: no recursion, at most len(pat) * len(s) steps. */
static bool
lists_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (tolower((unsigned char)*pat) ==
			   tolower((unsigned char)*s)) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else
			return false;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* True when name is a proper sub-domain of suffix (".example.com"). */
static bool
lists_suffix(const char *suffix, const char *name)
{
	size_t slen = strlen(suffix), nlen = strlen(name);

	return nlen > slen && strcasecmp(name + nlen - slen, suffix) == 0;
}

static bool
lists_match_text(const allowlist *list, const char *text)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct lists_entry *e = &list->entries[i];
		bool hit = false;

		switch (e->how) {
		case HOW_EXACT:
			hit = strcasecmp(e->text, text) == 0;
			break;
		case HOW_SUFFIX:
			hit = lists_suffix(e->text, text);
			break;
		case HOW_GLOB:
			hit = lists_glob(e->text, text);
			break;
		case HOW_REGEX:
			hit = regexec(&e->re, text, 0, NULL, 0) == 0;
			break;
		}
		if (hit)
			return true;
	}
	return false;
}

/* Match a host name or domain without its trailing dot. */
static bool
lists_match_name(const allowlist *list, enum lists_kind kind,
		 const char *name)
{
	char buf[CV_DOMAIN_MAX + 1];
	size_t len;

	if (list == NULL || list->kind != kind || name == NULL)
		return false;
	len = strlen(name);
	if (len == 0 || len > CV_DOMAIN_MAX)
		return false;
	memcpy(buf, name, len + 1);
	if (len > 1 && buf[len - 1] == '.')
		buf[len - 1] = '\0';
	return lists_match_text(list, buf);
}

bool
lists_match_hostname(const allowlist *list, const char *name)
{
	return lists_match_name(list, LISTS_HOSTNAMES, name);
}

bool
lists_match_domain(const allowlist *list, const char *domain)
{
	return lists_match_name(list, LISTS_DOMAINS, domain);
}

bool
lists_match_address(const allowlist *list, const char *address)
{
	if (list == NULL || list->kind != LISTS_ADDRESSES || address == NULL ||
	    address[0] == '\0')
		return false;
	return lists_match_text(list, address);
}

bool
lists_match_cv_address(const allowlist *list, const cv_address *addr)
{
	return addr != NULL && !addr->null &&
	    lists_match_address(list, addr->address);
}

bool
lists_match_host(const allowlist *list, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *sin6;
	struct sockaddr_in sin;

	if (list == NULL || list->kind != LISTS_HOSTS || sa == NULL)
		return false;
	if (sa->sa_family != AF_INET6)
		return cv_netlist_match(list->net, sa);
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return cv_netlist_match(list->net, sa);
	/* ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1 */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	return cv_netlist_match(list->net, (const struct sockaddr *)&sin);
}
