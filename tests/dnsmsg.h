/*
 * dnsmsg.h - a small DNS message builder, a question parser and a fake
 * zone for the DNS tests: the query hook of test-dns.c and the loopback
 * UDP servers of test-dns-server.c and test-spf-pool.c answer from it.
 *
 * The zone behaves like a recursive resolver: it follows CNAMEs inside
 * one answer (unless nofollow), says NXDOMAIN for names with no record
 * at all, NODATA (NOERROR, no answers) for names that exist, and can
 * fail a (name, type) with SERVFAIL, REFUSED or no answer (timeout).
 * Header-only so that each test program stays one file.
 */
#ifndef CV_DNSMSG_H
#define CV_DNSMSG_H

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define DMSG_QR 0x8000
#define DMSG_TC 0x0200
#define DMSG_RD 0x0100
#define DMSG_RA 0x0080

typedef struct dmsg {
	unsigned char buf[4096];
	size_t len;
	unsigned ancount;
} dmsg;

/*
 * The one question of a query (the test servers' side): its name,
 * without the final dot, into name[size], and its type.  Returns 0, or
 * -1 for anything but exactly one well-formed question (no compression
 * in a question, labels of 63 octets at most).
 */
static inline int
dmsg_question(const unsigned char *q, size_t len, char *name, size_t size,
	      int *type_r)
{
	size_t off = 12, out = 0;

	if (len < 12 || q[4] != 0 || q[5] != 1 || size == 0)
		return -1;
	while (off < len && q[off] != 0) {
		size_t l = q[off];

		if (l > 63 || off + 1 + l >= len || out + l + 2 > size)
			return -1;
		if (out > 0)
			name[out++] = '.';
		memcpy(name + out, q + off + 1, l);
		out += l;
		off += 1 + l;
	}
	if (off + 5 > len)
		return -1;
	name[out] = '\0';
	*type_r = q[off + 1] << 8 | q[off + 2];
	return 0;
}

static inline void
dmsg_put(dmsg *m, const void *p, size_t n)
{
	if (m->len + n > sizeof(m->buf))
		n = sizeof(m->buf) - m->len;
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static inline void
dmsg_u16(dmsg *m, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	dmsg_put(m, b, 2);
}

static inline void
dmsg_set16(dmsg *m, size_t off, unsigned v)
{
	m->buf[off] = (unsigned char)(v >> 8);
	m->buf[off + 1] = (unsigned char)v;
}

/* A name as uncompressed labels; "" and "." are the root. */
static inline void
dmsg_name(dmsg *m, const char *name)
{
	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);
		unsigned char len = (unsigned char)(n > 63 ? 63 : n);

		dmsg_put(m, &len, 1);
		dmsg_put(m, name, len);
		name += n;
		if (*name == '.')
			name++;
	}
	dmsg_put(m, "", 1);
}

/* Header and question; flags carry QR/TC/RD/RA and the rcode. */
static inline void
dmsg_start(dmsg *m, unsigned id, unsigned flags, const char *qname,
	   int qtype)
{
	memset(m, 0, sizeof(*m));
	dmsg_u16(m, id);
	dmsg_u16(m, flags);
	dmsg_u16(m, 1);
	dmsg_u16(m, 0);
	dmsg_u16(m, 0);
	dmsg_u16(m, 0);
	dmsg_name(m, qname);
	dmsg_u16(m, (unsigned)qtype);
	dmsg_u16(m, ns_c_in);
}

/* Owner, type, class, TTL; returns where RDLENGTH goes. */
static inline size_t
dmsg_rr_begin(dmsg *m, const char *owner, int type)
{
	size_t off;

	dmsg_name(m, owner);
	dmsg_u16(m, (unsigned)type);
	dmsg_u16(m, ns_c_in);
	dmsg_u16(m, 0);
	dmsg_u16(m, 300);
	off = m->len;
	dmsg_u16(m, 0);
	return off;
}

static inline void
dmsg_rr_end(dmsg *m, size_t off)
{
	dmsg_set16(m, off, (unsigned)(m->len - off - 2));
	dmsg_set16(m, 6, ++m->ancount);
}

static inline void
dmsg_mx(dmsg *m, const char *owner, unsigned pref, const char *target)
{
	size_t off = dmsg_rr_begin(m, owner, ns_t_mx);

	dmsg_u16(m, pref);
	dmsg_name(m, target);
	dmsg_rr_end(m, off);
}

static inline void
dmsg_cname(dmsg *m, const char *owner, const char *target)
{
	size_t off = dmsg_rr_begin(m, owner, ns_t_cname);

	dmsg_name(m, target);
	dmsg_rr_end(m, off);
}

/* An A or AAAA record, by the form of the address. */
static inline void
dmsg_addr(dmsg *m, const char *owner, const char *ip)
{
	unsigned char a[16];
	bool v4 = inet_pton(AF_INET, ip, a) == 1;
	size_t off;

	if (!v4 && inet_pton(AF_INET6, ip, a) != 1)
		return;
	off = dmsg_rr_begin(m, owner, v4 ? ns_t_a : ns_t_aaaa);
	dmsg_put(m, a, v4 ? 4 : 16);
	dmsg_rr_end(m, off);
}

/* ------------------------------------------------------------------ */

enum { Z_OK, Z_SERVFAIL, Z_REFUSED, Z_TIMEOUT };

typedef struct zrec {
	const char *owner;
	int type;		/* ns_t_mx, ns_t_a, ns_t_aaaa, ns_t_cname,
				 * ns_t_txt (the name exists, no data) */
	unsigned pref;
	const char *data;	/* target name or address */
	int fail;		/* Z_SERVFAIL...: how (owner, type) fails */
} zrec;

typedef struct zone {
	const zrec *recs;
	size_t count;
	bool nofollow;		/* CNAMEs not followed in an answer */
} zone;

static inline void
zone_add(dmsg *m, const zrec *r)
{
	if (r->type == ns_t_mx)
		dmsg_mx(m, r->owner, r->pref, r->data);
	else if (r->type == ns_t_cname)
		dmsg_cname(m, r->owner, r->data);
	else if (r->type == ns_t_a || r->type == ns_t_aaaa)
		dmsg_addr(m, r->owner, r->data);
}

/* Answer name/qtype into m; -1 when the zone stays silent. */
static inline int
zone_answer(const zone *z, unsigned id, const char *name, int qtype,
	    dmsg *m)
{
	const char *cur = name;
	unsigned rcode = ns_r_noerror;

	dmsg_start(m, id, DMSG_QR | DMSG_RD | DMSG_RA, name, qtype);
	for (int depth = 0; depth < 30; depth++) {
		const zrec *cname = NULL;
		bool exists = false;
		size_t found = 0;

		for (size_t i = 0; i < z->count; i++) {
			const zrec *r = &z->recs[i];

			if (strcasecmp(r->owner, cur) != 0)
				continue;
			exists = true;
			if (r->fail != Z_OK && r->type == qtype) {
				if (r->fail == Z_TIMEOUT)
					return -1;
				rcode = r->fail == Z_SERVFAIL ? ns_r_servfail :
								ns_r_refused;
				dmsg_start(m, id,
					   DMSG_QR | DMSG_RD | DMSG_RA | rcode,
					   name, qtype);
				return 0;
			}
			if (r->type == ns_t_cname && qtype != ns_t_cname)
				cname = r;
			if (r->type == qtype) {
				zone_add(m, r);
				found++;
			}
		}
		if (found > 0)
			break;
		if (cname != NULL) {
			zone_add(m, cname);
			if (z->nofollow)
				break;
			cur = cname->data;
			continue;
		}
		if (!exists)
			rcode = ns_r_nxdomain;
		break;
	}
	dmsg_set16(m, 2, DMSG_QR | DMSG_RD | DMSG_RA | rcode);
	return 0;
}

#endif /* CV_DNSMSG_H */
