/*
 * cache_record.c - keys, the record codec and the readable lines of the
 * verdict cache (the layout is described in cache_record.h).
 *
 * Guarantees: the encoder never writes past its buffer; the decoder
 * reads only inside the given length and accepts nothing but a complete
 * record of the current version whose every field is in range (known
 * enum values, expiry not before the stored time, strings within their
 * bounds and without NUL), so a record from a newer or broken writer is
 * refused as a whole, never half-used.  Printed lines escape every byte
 * that is not printable ASCII.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache_record.h"
#include "util.h"

/* ---------------------------------------------------------------- */
/* Entries                                                            */

void
cache_record_init(cache_record *rec, char kind)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->count = kind == 'd' ? CACHE_FACTS : 1;
}

void
cache_entry_set(cache_entry *e, const cv_result *r, int64_t now,
		unsigned ttl_s)
{
	memset(e, 0, sizeof(*e));
	e->present = true;
	e->verdict = r->verdict;
	e->class_ = r->class_;
	e->dns = r->dns;
	e->stored = now;
	e->expires = now + (int64_t)ttl_s;
	util_strlcpy(e->mx_name, r->mx_name, sizeof(e->mx_name));
	util_strlcpy(e->mx_ip, r->mx_ip, sizeof(e->mx_ip));
	util_strlcpy(e->sent, r->sent, sizeof(e->sent));
	util_strlcpy(e->reply, r->reply, sizeof(e->reply));
	util_strlcpy(e->message, r->message, sizeof(e->message));
}

void
cache_entry_result(const cache_entry *e, cv_result *result_r)
{
	memset(result_r, 0, sizeof(*result_r));
	result_r->verdict = e->verdict;
	result_r->class_ = e->class_;
	result_r->dns = e->dns;
	result_r->cached = true;
	util_strlcpy(result_r->mx_name, e->mx_name,
	    sizeof(result_r->mx_name));
	util_strlcpy(result_r->mx_ip, e->mx_ip, sizeof(result_r->mx_ip));
	util_strlcpy(result_r->sent, e->sent, sizeof(result_r->sent));
	util_strlcpy(result_r->reply, e->reply, sizeof(result_r->reply));
	util_strlcpy(result_r->message, e->message,
	    sizeof(result_r->message));
}

int64_t
cache_record_expires(const cache_record *rec)
{
	int64_t latest = 0;
	size_t i;

	for (i = 0; i < rec->count; i++)
		if (rec->e[i].present && rec->e[i].expires > latest)
			latest = rec->e[i].expires;
	return latest;
}

/* ---------------------------------------------------------------- */
/* The codec                                                          */

typedef struct wbuf {
	unsigned char *p;
	size_t len, size;
	bool over;
} wbuf;

typedef struct rbuf {
	const unsigned char *p;
	size_t len, off;
	bool bad;
} rbuf;

static void
wbuf_bytes(wbuf *w, const void *data, size_t n)
{
	if (w->over || n > w->size - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
wbuf_u8(wbuf *w, unsigned v)
{
	unsigned char b = (unsigned char)v;

	wbuf_bytes(w, &b, 1);
}

static void
wbuf_i64(wbuf *w, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	wbuf_bytes(w, b, sizeof(b));
}

static void
wbuf_str(wbuf *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	wbuf_u8(w, n & 0xff);
	wbuf_u8(w, n >> 8);
	wbuf_bytes(w, s, n);
}

static unsigned
rbuf_u8(rbuf *r)
{
	if (r->bad || r->off >= r->len) {
		r->bad = true;
		return 0;
	}
	return r->p[r->off++];
}

static int64_t
rbuf_i64(rbuf *r)
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u |= (uint64_t)rbuf_u8(r) << (8 * i);
	return (int64_t)u;
}

/* A string into dst of size dstsize; longer or with a NUL is bad. */
static void
rbuf_str(rbuf *r, char *dst, size_t dstsize)
{
	size_t n = rbuf_u8(r);

	n |= (size_t)rbuf_u8(r) << 8;
	if (r->bad || n >= dstsize || n > r->len - r->off ||
	    memchr(r->p + r->off, '\0', n) != NULL) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, r->p + r->off, n);
	dst[n] = '\0';
	r->off += n;
}

static void
entry_encode(wbuf *w, const cache_entry *e)
{
	wbuf_u8(w, e->present);
	if (!e->present)
		return;
	wbuf_u8(w, (unsigned)e->verdict);
	wbuf_u8(w, (unsigned)e->class_);
	wbuf_u8(w, (unsigned)e->dns);
	wbuf_i64(w, e->stored);
	wbuf_i64(w, e->expires);
	wbuf_str(w, e->mx_name, sizeof(e->mx_name) - 1);
	wbuf_str(w, e->mx_ip, sizeof(e->mx_ip) - 1);
	wbuf_str(w, e->sent, sizeof(e->sent) - 1);
	wbuf_str(w, e->reply, sizeof(e->reply) - 1);
	wbuf_str(w, e->message, sizeof(e->message) - 1);
}

static void
entry_decode(rbuf *r, cache_entry *e)
{
	unsigned present = rbuf_u8(r), verdict, class_, dns;

	memset(e, 0, sizeof(*e));
	if (present == 0)
		return;
	verdict = rbuf_u8(r);
	class_ = rbuf_u8(r);
	dns = rbuf_u8(r);
	e->present = true;
	e->stored = rbuf_i64(r);
	e->expires = rbuf_i64(r);
	if (present != 1 || verdict > CV_UNKNOWN || class_ > CV_CLASS_LIMIT ||
	    dns > CV_DNS_TEMP || e->expires < e->stored)
		r->bad = true;
	e->verdict = (cv_verdict)verdict;
	e->class_ = (cv_class)class_;
	e->dns = (cv_dns_status)dns;
	rbuf_str(r, e->mx_name, sizeof(e->mx_name));
	rbuf_str(r, e->mx_ip, sizeof(e->mx_ip));
	rbuf_str(r, e->sent, sizeof(e->sent));
	rbuf_str(r, e->reply, sizeof(e->reply));
	rbuf_str(r, e->message, sizeof(e->message));
}

size_t
cache_record_encode(const cache_record *rec, unsigned char *buf,
		    size_t size)
{
	wbuf w = { buf, 0, size, false };
	size_t i;

	wbuf_u8(&w, 'V');
	wbuf_u8(&w, CACHE_RECORD_VERSION);
	wbuf_u8(&w, (unsigned char)rec->kind);
	wbuf_u8(&w, (unsigned)rec->count);
	for (i = 0; i < rec->count && i < CACHE_FACTS; i++)
		entry_encode(&w, &rec->e[i]);
	return w.over ? 0 : w.len;
}

bool
cache_record_decode(const unsigned char *buf, size_t len,
		    cache_record *rec_r)
{
	rbuf r = { buf, len, 0, false };
	unsigned magic, version, kind, count;
	size_t i;

	magic = rbuf_u8(&r);
	version = rbuf_u8(&r);
	kind = rbuf_u8(&r);
	count = rbuf_u8(&r);
	if (r.bad || magic != 'V' || version != CACHE_RECORD_VERSION ||
	    (kind != 'a' && kind != 'd'))
		return false;
	cache_record_init(rec_r, (char)kind);
	if (count != rec_r->count)
		return false;
	for (i = 0; i < rec_r->count && !r.bad; i++)
		entry_decode(&r, &rec_r->e[i]);
	/* an address record without its entry is as bad as garbage */
	if (kind == 'a' && !rec_r->e[0].present)
		return false;
	return !r.bad && r.off == len;
}

/* ---------------------------------------------------------------- */
/* Keys                                                               */

bool
cache_sender_null(const char *mail_from)
{
	return mail_from == NULL || mail_from[0] == '\0' ||
	    strcmp(mail_from, "<>") == 0;
}

/* The domain part of keys: ASCII form, lower-cased. */
static bool
key_domain_part(const cv_address *addr, char *out, size_t size)
{
	const char *d = addr->ascii_domain[0] != '\0' ? addr->ascii_domain :
	    addr->domain;
	size_t i;

	if (addr->null || addr->unqualified || d[0] == '\0' ||
	    strlen(d) >= size)
		return false;
	for (i = 0; d[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)d[i]);
	out[i] = '\0';
	return true;
}

bool
cache_key_domain(const cv_address *addr, char *key_r, size_t size)
{
	char dom[CV_DOMAIN_MAX + 1];

	if (!key_domain_part(addr, dom, sizeof(dom)))
		return false;
	return (size_t)snprintf(key_r, size, "d:%s", dom) < size;
}

uint64_t
cache_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

bool
cache_key_address(const cv_address *addr, const char *mail_from,
		  size_t max_key, char *key_r, size_t size)
{
	char dom[CV_DOMAIN_MAX + 1], sender[CV_PATH_MAX + 1];
	size_t n;

	if (!key_domain_part(addr, dom, sizeof(dom)) || addr->local[0] == '\0')
		return false;
	n = (size_t)snprintf(key_r, size, "a:%s:%s", dom, addr->local);
	if (n >= size)
		return false;
	if (cache_sender_null(mail_from))
		return n <= max_key;
	util_strlcpy(sender, mail_from, sizeof(sender));
	n = strlen(sender);
	if (n >= 2 && sender[0] == '<' && sender[n - 1] == '>') {
		memmove(sender, sender + 1, n - 2);
		sender[n - 2] = '\0';
	}
	util_appendf(key_r, size, "/%s", sender);
	if (strlen(key_r) > max_key || strlen(key_r) + 1 >= size) {
		(void)snprintf(key_r, size, "a:%s:%s/#%016llx", dom,
		    addr->local, (unsigned long long)cache_hash(sender));
	}
	return strlen(key_r) <= max_key;
}

bool
cache_select_parse(const char *key, cache_select *sel_r)
{
	char text[CV_PATH_MAX + 16], why[CV_ERROR_MAX], dom[CV_DOMAIN_MAX + 1];
	cv_address addr;

	memset(sel_r, 0, sizeof(*sel_r));
	if (key == NULL || key[0] == '\0' || strlen(key) > CV_PATH_MAX)
		return false;
	sel_r->domain = strchr(key, '@') == NULL;
	/* a domain goes through the path parser too, for its ASCII form */
	(void)snprintf(text, sizeof(text), sel_r->domain ? "postmaster@%s" :
	    "%s", key);
	if (cv_path_parse(text, strlen(text), &addr, why, sizeof(why)) != 0 ||
	    !key_domain_part(&addr, dom, sizeof(dom)))
		return false;
	if (sel_r->domain) {
		(void)snprintf(sel_r->exact, sizeof(sel_r->exact), "d:%s", dom);
		(void)snprintf(sel_r->prefix, sizeof(sel_r->prefix), "a:%s:",
		    dom);
	} else {
		(void)snprintf(sel_r->prefix, sizeof(sel_r->prefix), "a:%s:%s",
		    dom, addr.local);
	}
	return true;
}

bool
cache_select_match(const cache_select *sel, const char *key)
{
	size_t n = strlen(sel->prefix);

	if (sel->exact[0] != '\0' && strcmp(key, sel->exact) == 0)
		return true;
	if (strncmp(key, sel->prefix, n) != 0)
		return false;
	return sel->domain || key[n] == '\0' || key[n] == '/';
}

/* ---------------------------------------------------------------- */
/* Readable lines                                                     */

static void
print_time(char *out, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, size, "@%lld", (long long)t);
}

/* Printable ASCII as is, '"' and '\\' escaped, anything else \xHH. */
static void
print_escape(char *out, size_t size, const char *in)
{
	size_t o = 0;
	unsigned char c;

	for (; (c = (unsigned char)*in) != '\0' && o + 5 < size; in++) {
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		}
	}
	out[o] = '\0';
}

static const char *const fact_names[CACHE_FACTS] = {
	[CACHE_FACT_NULL_SENDER] = "refuses-null-sender",
	[CACHE_FACT_CATCH_ALL] = "accepts-random",
	[CACHE_FACT_POSTMASTER] = "refuses-postmaster",
};

long
cache_record_print(const char *key, const cache_record *rec, int64_t now,
		   cache_print_fn *print, void *ctx)
{
	char line[2 * CACHE_KEY_MAX + 4 * CACHE_MESSAGE_KEEP + 512];
	char stored[40], expires[40], msg[4 * CACHE_MESSAGE_KEEP + 8];
	const cache_entry *e;
	long n = 0;
	size_t i;

	for (i = 0; i < rec->count; i++) {
		e = &rec->e[i];
		if (!e->present)
			continue;
		print_time(stored, sizeof(stored), e->stored);
		print_time(expires, sizeof(expires), e->expires);
		print_escape(msg, sizeof(msg), e->message);
		(void)snprintf(line, sizeof(line), "%s%s%s %s %s", key,
		    rec->kind == 'd' ? " " : "",
		    rec->kind == 'd' ? fact_names[i] : "",
		    cv_verdict_name(e->verdict), cv_class_name(e->class_));
		if (e->class_ == CV_CLASS_DNS)
			util_appendf(line, sizeof(line), "/%s",
			    cv_dns_status_name(e->dns));
		util_appendf(line, sizeof(line), " stored %s expires %s%s",
		    stored, expires, now >= e->expires ? " (expired)" : "");
		if (e->mx_name[0] != '\0' || e->mx_ip[0] != '\0')
			util_appendf(line, sizeof(line), " mx %s [%s]",
			    e->mx_name[0] != '\0' ? e->mx_name : "-",
			    e->mx_ip);
		util_appendf(line, sizeof(line), " \"%s\"", msg);
		print(ctx, line);
		n++;
	}
	return n;
}
