/*
 * mta.h - thin, const-correct wrappers of the libmilter calls the
 * callbacks make.  libmilter takes "char *" for strings it never writes;
 * these take "const char *", so the callbacks stay free of casts, and
 * every call the filter makes to its MTA goes through one small file.
 */
#ifndef CM_MTA_H
#define CM_MTA_H

#include <libmilter/mfapi.h>

#include "reply.h"

const char *mta_getsymval(SMFICTX *ctx, const char *name);
void mta_setsymlist(SMFICTX *ctx, int stage, const char *macros);
int mta_addheader(SMFICTX *ctx, const char *name, const char *value);
int mta_insheader(SMFICTX *ctx, int index, const char *name,
		  const char *value);

/* Hand rep (up to REPLY_LINES_MAX lines) to the MTA; returns the
 * SMFIS_REJECT or SMFIS_TEMPFAIL that goes with it. */
sfsistat mta_reply(SMFICTX *ctx, reply *rep);

/* A 451 4.3.0 for trouble inside the filter. */
sfsistat mta_tempfail(SMFICTX *ctx);

#endif /* CM_MTA_H */
