/*
 * spf_proto.c - encodes and decodes the request and response packets
 * between the SPF pool and its helpers (spf_proto.h).
 *
 * Guarantees: an encoder never writes past SPF_MSG_MAX octets; a decoder
 * accepts only a whole, well-formed packet whose strings fit their
 * fields and hold printable ASCII only (so a helper gone bad cannot
 * smuggle a CR LF into a header or a log line).  Pure functions.
 */
#include "config.h"

#include <string.h>

#include "spf_proto.h"

#define MAGIC_REQUEST  "SPFq"
#define MAGIC_RESPONSE "SPFa"

typedef struct wbuf {
	unsigned char *p;
	size_t len;
	bool bad;
} wbuf;

typedef struct rbuf {
	const unsigned char *p;
	size_t len, off;
	bool bad;
} rbuf;

static void
w_bytes(wbuf *w, const void *data, size_t n)
{
	if (w->bad || w->len + n > SPF_MSG_MAX) {
		w->bad = true;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
w_u32(wbuf *w, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24),
	                      (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	                      (unsigned char)v};

	w_bytes(w, b, 4);
}

static void
w_str(wbuf *w, const char *s)
{
	size_t n = strlen(s);
	unsigned char b[2] = {(unsigned char)(n >> 8), (unsigned char)n};

	if (n > 0xffff) {
		w->bad = true;
		return;
	}
	w_bytes(w, b, 2);
	w_bytes(w, s, n);
}

static const unsigned char *
r_bytes(rbuf *r, size_t n)
{
	const unsigned char *at;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

static uint32_t
r_u32(rbuf *r)
{
	const unsigned char *b = r_bytes(r, 4);

	if (b == NULL)
		return 0;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* A string into dst[size]: must fit with its NUL, printable only. */
static void
r_str(rbuf *r, char *dst, size_t size)
{
	const unsigned char *b = r_bytes(r, 2);
	size_t n;

	dst[0] = '\0';
	if (b == NULL)
		return;
	n = (size_t)b[0] << 8 | b[1];
	if (n >= size) {
		r->bad = true;
		return;
	}
	b = r_bytes(r, n);
	if (b == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (b[i] < 0x20 || b[i] > 0x7e) {
			r->bad = true;
			return;
		}
	}
	memcpy(dst, b, n);
	dst[n] = '\0';
}

size_t
spf_proto_put_request(const spf_request_msg *req, unsigned char *buf)
{
	wbuf w = {buf, 0, false};

	w_bytes(&w, MAGIC_REQUEST, 4);
	w_u32(&w, req->seq);
	w_u32(&w, req->budget_ms);
	w_str(&w, req->ip);
	w_str(&w, req->helo);
	w_str(&w, req->sender);
	return w.bad ? 0 : w.len;
}

size_t
spf_proto_put_response(const spf_response_msg *resp, unsigned char *buf)
{
	wbuf w = {buf, 0, false};
	unsigned char result = (unsigned char)resp->result;

	w_bytes(&w, MAGIC_RESPONSE, 4);
	w_u32(&w, resp->seq);
	w_bytes(&w, &result, 1);
	w_str(&w, resp->explanation);
	w_str(&w, resp->problem);
	return w.bad ? 0 : w.len;
}

int
spf_proto_get_request(const unsigned char *buf, size_t len,
                      spf_request_msg *req_r)
{
	rbuf r = {buf, len, 0, false};
	const unsigned char *magic = r_bytes(&r, 4);

	memset(req_r, 0, sizeof(*req_r));
	if (magic == NULL || memcmp(magic, MAGIC_REQUEST, 4) != 0)
		return -1;
	req_r->seq = r_u32(&r);
	req_r->budget_ms = r_u32(&r);
	r_str(&r, req_r->ip, sizeof(req_r->ip));
	r_str(&r, req_r->helo, sizeof(req_r->helo));
	r_str(&r, req_r->sender, sizeof(req_r->sender));
	return r.bad || r.off != len ? -1 : 0;
}

int
spf_proto_get_response(const unsigned char *buf, size_t len,
                       spf_response_msg *resp_r)
{
	rbuf r = {buf, len, 0, false};
	const unsigned char *magic = r_bytes(&r, 4);
	const unsigned char *result;

	memset(resp_r, 0, sizeof(*resp_r));
	if (magic == NULL || memcmp(magic, MAGIC_RESPONSE, 4) != 0)
		return -1;
	resp_r->seq = r_u32(&r);
	result = r_bytes(&r, 1);
	if (result == NULL || *result > SPFR_PERMERROR)
		return -1;
	resp_r->result = (spf_result)*result;
	r_str(&r, resp_r->explanation, sizeof(resp_r->explanation));
	r_str(&r, resp_r->problem, sizeof(resp_r->problem));
	return r.bad || r.off != len ? -1 : 0;
}

void
spf_proto_printable(char *dst, size_t size, const char *text)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; text != NULL && text[i] != '\0' && i + 1 < size; i++) {
		unsigned char c = (unsigned char)text[i];

		dst[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	dst[i] = '\0';
}
