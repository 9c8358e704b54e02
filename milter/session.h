/*
 * session.h - the milter callbacks (DESIGN.md section 2): per-connection
 * state, exemptions, the sender check at RCPT, the header_sender check at
 * end of headers, and the tag-mode header at end of message.
 */
#ifndef CM_SESSION_H
#define CM_SESSION_H

#include <libmilter/mfapi.h>

/* The filter description to hand to smfi_register(). */
struct smfiDesc *session_filter(void);

struct spf_pool;

/* The SPF helper pool sessions use (NULL: no SPF); set at start-up. */
void session_set_spf(struct spf_pool *pool);

/* Stopping: refuse new sessions with a 451, let open ones finish. */
void session_drain(void);

/* Sessions open right now (connect seen, close not yet). */
unsigned session_count(void);

#endif /* CM_SESSION_H */
