/*
 * spf_proto.h - the messages between the daemon's SPF pool (spf.c) and
 * its helper processes (spf_helper.c), over a SOCK_SEQPACKET socketpair:
 * one request, one response, each one packet of at most SPF_MSG_MAX
 * octets (internal).
 *
 *   request:  "SPFq" seq:u32 budget_ms:u32 ip:str helo:str sender:str
 *   response: "SPFa" seq:u32 result:u8 explanation:str problem:str
 *
 * Integers are big-endian; a str is a u16 length and that many octets
 * (no NUL).  The decoders refuse anything malformed, too long, with a
 * NUL or a byte outside printable ASCII in a string.
 */
#ifndef CM_SPF_PROTO_H
#define CM_SPF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "spf.h"

#define SPF_MSG_MAX 2048

typedef struct spf_request_msg {
	uint32_t seq;
	uint32_t budget_ms; /* time the helper has */
	char ip[CV_IPSTR_MAX];
	char helo[CV_DOMAIN_MAX + 1];
	char sender[CV_PATH_MAX + 1]; /* "" for the null sender */
} spf_request_msg;

typedef struct spf_response_msg {
	uint32_t seq;
	spf_result result;
	char explanation[SPF_EXPLANATION_MAX];
	char problem[SPF_PROBLEM_MAX];
} spf_response_msg;

/* Encode into buf (SPF_MSG_MAX octets); returns the length, 0 if a
 * field does not fit the message. */
size_t spf_proto_put_request(const spf_request_msg *req, unsigned char *buf);
size_t spf_proto_put_response(const spf_response_msg *resp, unsigned char *buf);

/* Decode; 0 on success, -1 when the message is malformed. */
int spf_proto_get_request(const unsigned char *buf, size_t len,
                          spf_request_msg *req_r);
int spf_proto_get_response(const unsigned char *buf, size_t len,
                           spf_response_msg *resp_r);

/* Copy text into dst (size > 0) with every byte outside printable ASCII
 * replaced by '?', cut to fit. */
void spf_proto_printable(char *dst, size_t size, const char *text);

#endif /* CM_SPF_PROTO_H */
