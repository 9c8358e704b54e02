/*
 * netlist.c - lists of IPv4/IPv6 networks and the reserved-range test.
 *
 * A cv_netlist holds CIDR ranges ("192.0.2.0/24", "2001:db8::/32", or a
 * single address) and answers whether a socket address lies in one of
 * them.  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is also matched
 * against the IPv4 entries, so a dual-stack socket cannot slip past an
 * IPv4 list.  Host bits below the prefix are ignored ("192.0.2.1/24" is
 * 192.0.2.0/24), as in Exim host lists.
 *
 * cv_addr_reserved() says whether an address is one a callout must not
 * reach by default: loopback, private, link-local, CGNAT, multicast,
 * documentation, benchmarking and other special-purpose ranges (the IANA
 * special-purpose registries, RFC 6890 and successors).  Decisions:
 *  - all IPv6 space outside 2000::/3 (global unicast) is reserved: it
 *    holds ::, ::1, the mapped and IPv4-compatible forms, unique-local,
 *    link-local, multicast and ranges not allocated at all;
 *  - 64:ff9b::/96 (NAT64 well-known prefix, RFC 6052) is reserved only
 *    when the IPv4 address it embeds is reserved: DNS64 resolvers hand
 *    out such addresses for ordinary IPv4-only hosts, but one embedding
 *    127.0.0.1 would reach our own loopback through the translator;
 *    the same rule applies to 6to4 (2002::/16), the local-use NAT64
 *    prefix 64:ff9b:1::/48 is reserved as a whole.
 *
 * Failure: cv_netlist_add() refuses garbage, bad prefix lengths and
 * out-of-memory with a one-line reason.  A list is read-only once set up
 * and may then be matched from any number of threads at once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NETLIST_MAX 100000	/* entries in one list, a sanity bound */
#define NETLIST_TEXT_MAX 64	/* longest "addr/prefix" accepted */

typedef struct netlist_entry {
	int family;			/* AF_INET or AF_INET6 */
	unsigned prefix;		/* significant bits */
	unsigned char addr[16];		/* network, host bits zero */
} netlist_entry;

struct cv_netlist {
	netlist_entry *entries;
	size_t count;
	size_t size;
};

/* Clear the bits of addr (len octets) below prefix. */
static void
netlist_mask(unsigned char *addr, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;

		if (bits >= 8)
			continue;
		addr[i] &= (unsigned char)(0xff00u >> bits);
	}
}

/* Whether the first prefix bits of a and b agree. */
static bool
netlist_prefix_equal(const unsigned char *a, const unsigned char *b,
		     unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xff00u >> rest)) == 0;
}

cv_netlist *
cv_netlist_new(void)
{
	return calloc(1, sizeof(cv_netlist));
}

/* Parse the decimal prefix length in text, at most max; -1 if bad. */
static int
netlist_parse_prefix(const char *text, unsigned max)
{
	unsigned value = 0;

	if (*text == '\0' || strlen(text) > 3)
		return -1;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		value = value * 10 + (unsigned)(*p - '0');
	}
	/* "024" is not a prefix anyone means */
	if (text[0] == '0' && text[1] != '\0')
		return -1;
	return value <= max ? (int)value : -1;
}

/* Parse "addr[/prefix]" into *entry_r; -1 with a reason. */
static int
netlist_parse(const char *cidr, netlist_entry *entry_r, char *error_r,
	      size_t error_size)
{
	char text[NETLIST_TEXT_MAX];
	char *slash;
	unsigned max;
	int prefix;

	if (util_strlcpy(text, cidr, sizeof(text)) >= sizeof(text)) {
		snprintf(error_r, error_size, "network too long");
		return -1;
	}
	memset(entry_r, 0, sizeof(*entry_r));
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, text, entry_r->addr) == 1) {
		entry_r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, entry_r->addr) == 1) {
		entry_r->family = AF_INET6;
		max = 128;
	} else {
		snprintf(error_r, error_size,
			 "\"%s\" is not an IPv4 or IPv6 address", text);
		return -1;
	}
	prefix = (int)max;
	if (slash != NULL) {
		prefix = netlist_parse_prefix(slash + 1, max);
		if (prefix < 0) {
			snprintf(error_r, error_size,
				 "bad prefix length \"%.8s\" (0-%u) in \"%s\"",
				 slash + 1, max, cidr);
			return -1;
		}
	}
	entry_r->prefix = (unsigned)prefix;
	netlist_mask(entry_r->addr, max / 8, entry_r->prefix);
	return 0;
}

int
cv_netlist_add(cv_netlist *list, const char *cidr, char *error_r,
	       size_t error_size)
{
	netlist_entry entry;

	if (list == NULL || cidr == NULL) {
		snprintf(error_r, error_size, "no list or network given");
		return -1;
	}
	if (netlist_parse(cidr, &entry, error_r, error_size) < 0)
		return -1;
	if (list->count == list->size) {
		size_t size = list->size == 0 ? 8 : list->size * 2;
		netlist_entry *entries;

		if (size > NETLIST_MAX) {
			snprintf(error_r, error_size,
				 "too many networks (at most %d)", NETLIST_MAX);
			return -1;
		}
		entries = realloc(list->entries, size * sizeof(*entries));
		if (entries == NULL) {
			snprintf(error_r, error_size, "out of memory");
			return -1;
		}
		list->entries = entries;
		list->size = size;
	}
	list->entries[list->count++] = entry;
	return 0;
}

/* Pull the raw address out of sa: 4 or 16 octets, or 0 if neither. */
static size_t
netlist_sockaddr(const struct sockaddr *sa, unsigned char addr_r[16])
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(addr_r, &sin->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		memcpy(addr_r, &sin6->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* Whether a 16-octet address is ::ffff:a.b.c.d. */
static bool
netlist_is_mapped(const unsigned char *addr)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	return memcmp(addr, mapped, sizeof(mapped)) == 0;
}

/* Match a raw address (len 4 or 16) against the entries. */
static bool
netlist_match_raw(const cv_netlist *list, const unsigned char *addr,
		  size_t len)
{
	bool mapped = len == 16 && netlist_is_mapped(addr);

	for (size_t i = 0; i < list->count; i++) {
		const netlist_entry *e = &list->entries[i];

		if (e->family == AF_INET && len == 4 &&
		    netlist_prefix_equal(e->addr, addr, e->prefix))
			return true;
		if (e->family == AF_INET && mapped &&
		    netlist_prefix_equal(e->addr, addr + 12, e->prefix))
			return true;
		if (e->family == AF_INET6 && len == 16 &&
		    netlist_prefix_equal(e->addr, addr, e->prefix))
			return true;
	}
	return false;
}

bool
cv_netlist_match(const cv_netlist *list, const struct sockaddr *sa)
{
	unsigned char addr[16];
	size_t len;

	if (list == NULL)
		return false;
	len = netlist_sockaddr(sa, addr);
	if (len == 0)
		return false;
	return netlist_match_raw(list, addr, len);
}

size_t
cv_netlist_count(const cv_netlist *list)
{
	return list != NULL ? list->count : 0;
}

void
cv_netlist_free(cv_netlist **list_p)
{
	if (list_p == NULL || *list_p == NULL)
		return;
	free((*list_p)->entries);
	free(*list_p);
	*list_p = NULL;
}

/* ------------------------------------------------------------------ */
/* Reserved ranges                                                     */
/* ------------------------------------------------------------------ */

typedef struct netlist_range {
	unsigned char addr[16];
	unsigned prefix;
} netlist_range;

/* IPv4 special-purpose ranges a callout must not reach. */
static const netlist_range netlist_reserved4[] = {
	{{0, 0, 0, 0}, 8},		/* "this network", RFC 791 */
	{{10, 0, 0, 0}, 8},		/* private, RFC 1918 */
	{{100, 64, 0, 0}, 10},		/* shared/CGNAT, RFC 6598 */
	{{127, 0, 0, 0}, 8},		/* loopback */
	{{169, 254, 0, 0}, 16},		/* link-local, RFC 3927 */
	{{172, 16, 0, 0}, 12},		/* private */
	{{192, 0, 0, 0}, 24},		/* IETF protocol assignments */
	{{192, 0, 2, 0}, 24},		/* TEST-NET-1, RFC 5737 */
	{{192, 168, 0, 0}, 16},		/* private */
	{{198, 18, 0, 0}, 15},		/* benchmarking, RFC 2544 */
	{{198, 51, 100, 0}, 24},	/* TEST-NET-2 */
	{{203, 0, 113, 0}, 24},		/* TEST-NET-3 */
	{{224, 0, 0, 0}, 4},		/* multicast */
	{{240, 0, 0, 0}, 4},		/* reserved + limited broadcast */
};

/*
 * IPv6: everything outside 2000::/3, the only global unicast space IANA
 * hands out, is reserved; that covers ::, ::1, IPv4-compatible ::/96,
 * mapped ::ffff:0:0/96, 100::/64 (discard), fc00::/7 (unique-local),
 * fe80::/10 (link-local), fec0::/10 (site-local), ff00::/8 (multicast)
 * and 64:ff9b:1::/48 (local-use NAT64).  Inside 2000::/3 these are: */
static const netlist_range netlist_reserved6[] = {
	{{0x20, 0x01, 0x00, 0x02, 0, 0}, 48},	/* benchmarking, RFC 5180 */
	{{0x20, 0x01, 0x00, 0x10}, 28},	/* ORCHID, RFC 4843 */
	{{0x20, 0x01, 0x00, 0x20}, 28},	/* ORCHIDv2, RFC 7343 */
	{{0x20, 0x01, 0x0d, 0xb8}, 32},	/* documentation, RFC 3849 */
	{{0x3f, 0xff, 0x00}, 20},	/* documentation, RFC 9637 */
};

static bool
netlist_in_ranges(const netlist_range *ranges, size_t n,
		  const unsigned char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (netlist_prefix_equal(ranges[i].addr, addr,
					 ranges[i].prefix))
			return true;
	return false;
}

static bool
netlist_reserved4_raw(const unsigned char *addr)
{
	return netlist_in_ranges(netlist_reserved4,
				 sizeof(netlist_reserved4) /
				     sizeof(netlist_reserved4[0]),
				 addr);
}

static bool
netlist_reserved6_raw(const unsigned char *addr)
{
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	static const unsigned char sixtofour[2] = {0x20, 0x02};

	/* translated to IPv4 on the way: judge the IPv4 address */
	if (memcmp(addr, nat64, sizeof(nat64)) == 0)
		return netlist_reserved4_raw(addr + 12);
	if (memcmp(addr, sixtofour, sizeof(sixtofour)) == 0)
		return netlist_reserved4_raw(addr + 2);
	if ((addr[0] & 0xe0) != 0x20)
		return true;
	return netlist_in_ranges(netlist_reserved6,
				 sizeof(netlist_reserved6) /
				     sizeof(netlist_reserved6[0]),
				 addr);
}

bool
cv_addr_reserved(const struct sockaddr *sa)
{
	unsigned char addr[16];
	size_t len = netlist_sockaddr(sa, addr);

	if (len == 4)
		return netlist_reserved4_raw(addr);
	if (len == 16)
		return netlist_reserved6_raw(addr);
	/* not an address we could connect to: refuse it */
	return true;
}
