/*
 * mta.c - the libmilter calls of the callbacks, const-correct.  The casts
 * are safe: libmilter copies these strings and never writes them.
 */
#include "config.h"

#include <stdint.h>

#include "log.h"
#include "mta.h"

static char *
unconst(const char *s)
{
	return (char *)(uintptr_t)s;
}

const char *
mta_getsymval(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, unconst(name));
}

void
mta_setsymlist(SMFICTX *ctx, int stage, const char *macros)
{
	if (smfi_setsymlist(ctx, stage, unconst(macros)) != MI_SUCCESS)
		log_msg(LOG_DEBUG, "the MTA refused the macro list \"%s\"",
		    macros);
}

int
mta_addheader(SMFICTX *ctx, const char *name, const char *value)
{
	return smfi_addheader(ctx, unconst(name), unconst(value));
}

int
mta_insheader(SMFICTX *ctx, int index, const char *name, const char *value)
{
	return smfi_insheader(ctx, index, unconst(name), unconst(value));
}

sfsistat
mta_reply(SMFICTX *ctx, reply *rep)
{
	char *l[REPLY_LINES_MAX + 1];
	size_t i;
	int rc;

	/* the list of lines ends at the first NULL */
	for (i = 0; i <= REPLY_LINES_MAX; i++)
		l[i] = i < rep->nlines ? rep->line[i] : NULL;
	if (rep->nlines <= 1)
		rc = smfi_setreply(ctx, rep->code, rep->xcode, l[0]);
	else
		rc = smfi_setmlreply(ctx, rep->code, rep->xcode, l[0], l[1],
		    l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9], l[10],
		    l[11], l[12], l[13], l[14], l[15], l[16], l[17], l[18],
		    l[19], l[20], l[21], l[22], l[23], l[24], l[25], l[26],
		    l[27], l[28], l[29], l[30], l[31], (char *)NULL);
	if (rc != MI_SUCCESS)
		log_msg(LOG_WARNING, "the MTA refused the %s reply text",
		    rep->code);
	return rep->action == REPLY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

sfsistat
mta_tempfail(SMFICTX *ctx)
{
	(void)smfi_setreply(ctx, unconst("451"), unconst("4.3.0"),
	    unconst("Temporary local problem - please try later"));
	return SMFIS_TEMPFAIL;
}
