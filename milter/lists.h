/*
 * lists.h - the allow-lists of callout-milter (DESIGN.md section 7):
 * client addresses, client host names, sender and recipient address
 * patterns, and domains.
 *
 * A list is built once while a configuration is loaded and is read-only
 * afterwards, so any number of threads may match against it at once.
 *
 * Entry syntax, by kind:
 *   LISTS_HOSTS      "192.0.2.0/24", "2001:db8::/32", "192.0.2.1", "::1"
 *                    (an IPv4-mapped IPv6 client address is matched as
 *                    the IPv4 address it carries)
 *   LISTS_HOSTNAMES  "mx.example.com" (exact), "*.example.com" or
 *   LISTS_DOMAINS    ".example.com" (any sub-domain, not the name
 *                    itself), a pattern with '*' anywhere
 *                    ("mail*.example.com"), "/regex/"
 *   LISTS_ADDRESSES  "user@example.com" (exact), "@example.com" (any
 *                    local part, same as "*@example.com"), patterns with
 *                    '*' anywhere ("*-request@*", "postmaster@*"),
 *                    "/regex/" matched against "local@domain"
 *                    (e.g. "/^bounce-/")
 * Matching ignores ASCII case everywhere, in local parts too (a list
 * that exempts Postmaster@x also exempts postmaster@x: exempting too
 * much is the safe direction for an allow-list).  '*' matches any run of
 * characters, '?' is literal.  A regex is POSIX extended, compiled with
 * REG_ICASE when the list is built (a bad regex is an error then), and
 * is not anchored unless it says so.  A trailing dot on a name is
 * ignored.
 *
 * A list value (lists_parse) holds entries separated by white space or
 * commas; "file:/path" names a file with one entry per line ('#' at the
 * start of a line makes a comment, blank lines are ignored), and may be
 * mixed with inline entries: "127.0.0.0/8 file:/etc/callout-milter/hosts".
 * A regex runs to the '/' that is followed by white space, a comma or the
 * end, so it may contain both.  Files may not name other files.
 */
#ifndef CM_LISTS_H
#define CM_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "callout.h"

#define LISTS_ENTRY_MAX		1024	/* characters in one entry */
#define LISTS_ENTRIES_MAX	100000	/* entries in one list */

enum lists_kind {
	LISTS_HOSTS = 0,
	LISTS_HOSTNAMES,
	LISTS_DOMAINS,
	LISTS_ADDRESSES,
};

typedef struct allowlist allowlist;

/* An empty list of that kind; NULL only when out of memory. */
allowlist *lists_new(enum lists_kind kind);

/* Add one entry (no "file:", no separators).  Returns 0, or -1 with a
 * reason that quotes the entry in error_r. */
int lists_add(allowlist *list, const char *entry, char *error_r,
	      size_t error_size);

/* Add every entry of a list value, reading the files it names.  Returns
 * 0, or -1 with a reason in error_r; a problem inside a file is reported
 * as "PATH:LINE: reason", an unreadable file as
 * "cannot read "PATH": strerror".  The list may hold part of the entries
 * after a failure: free it. */
int lists_parse(allowlist *list, const char *value, char *error_r,
		size_t error_size);

/* Free the list and set *list_p to NULL; NULL is fine. */
void lists_free(allowlist **list_p);

enum lists_kind lists_kind_of(const allowlist *list);
size_t lists_count(const allowlist *list);

/* The addresses of a LISTS_HOSTS list as a cv_netlist (for the library's
 * CalloutAllowNetworks); NULL for other kinds.  Owned by the list. */
const cv_netlist *lists_netlist(const allowlist *list);

/* Each returns false for a NULL list, a list of another kind or an
 * empty or absent value. */
bool lists_match_host(const allowlist *list, const struct sockaddr *sa);
bool lists_match_hostname(const allowlist *list, const char *name);
bool lists_match_domain(const allowlist *list, const char *domain);
/* "local@domain"; the null sender "" matches nothing. */
bool lists_match_address(const allowlist *list, const char *address);
bool lists_match_cv_address(const allowlist *list, const cv_address *addr);

#endif /* CM_LISTS_H */
