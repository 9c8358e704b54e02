/*
 * conf_types.h - parsers for the value types of the config table
 * (internal to conf.c and its tests).
 *
 * Each parser takes the value text (already trimmed), fills its result
 * and returns 0, or returns -1 with a reason in why_r that quotes the
 * value, without the "FILE:LINE: Key: " prefix the loader adds.  On
 * failure the result is unspecified but owns nothing.
 */
#ifndef CM_CONFIG_TYPES_H
#define CM_CONFIG_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

int config_parse_bool(const char *v, bool *r, char *why_r, size_t size);
int config_parse_int(const char *v, long long min, long long max,
		     unsigned *r, char *why_r, size_t size);
int config_parse_octal(const char *v, long long min, long long max,
		       unsigned *r, char *why_r, size_t size);
/* auto_ok: "auto" gives 0 */
int config_parse_duration(const char *v, long long min, long long max,
			  bool auto_ok, unsigned *r, char *why_r,
			  size_t size);
int config_parse_enum(const char *v, const struct config_word *words,
		      int *r, char *why_r, size_t size);
int config_parse_socket(const char *v, struct config_socket *r,
			char *why_r, size_t size);
int config_parse_user(const char *v, struct config_user *r, char *why_r,
		      size_t size);
/* The results below are heap strings the caller frees. */
int config_parse_path(const char *v, char **r, char *why_r, size_t size);
/* "" stays "": the loader looks up the FQDN. */
int config_parse_hostname(const char *v, char **r, char *why_r,
			  size_t size);
int config_parse_mailpath(const char *v, char **r, char *why_r,
			  size_t size);
/* "" gives NULL */
int config_parse_text(const char *v, char **r, char *why_r, size_t size);
int config_parse_sources(const char *v, struct config_sources *r,
			 char *why_r, size_t size);
/* On success r owns its strings: free with config_servers_free(). */
int config_parse_servers(const char *v, struct config_servers *r,
			 char *why_r, size_t size);
void config_servers_free(struct config_servers *s);
int config_parse_cache(const char *v, struct config_cache *r, char *why_r,
		       size_t size);

/* "7d", "2h", "90s": seconds in the largest unit that divides them. */
void config_format_duration(unsigned long long s, char *buf, size_t size);

/* This host's FQDN through hook, or gethostname plus a bounded
 * getaddrinfo(AI_CANONNAME).  Returns 0, or -1 with a reason. */
int config_find_fqdn(config_fqdn_fn *hook, char *buf, size_t size,
		     char *why_r, size_t why_size);

#endif /* CM_CONFIG_TYPES_H */
