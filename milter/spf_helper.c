/*
 * spf_helper.c - callout-spf-helper, the process that runs libspf2 for
 * callout-milter (started by spf_pool.c, never by hand).
 *
 *   callout-spf-helper [-n server]... [-t dns_ms] [-m mem_mb] [-c cpu_s]
 *                      [-r receiver]
 *
 * It reads requests from the SOCK_SEQPACKET socket on fd 3 (spf_proto.h),
 * evaluates each with one evaluator of its own (one thread, one
 * SPF_server_t) and answers; it exits when the daemon closes its end.
 * Before the first request it shuts itself in: no new privileges
 * (PR_SET_NO_NEW_PRIVS), no core files, no forking, no files written,
 * few fds, a CPU budget and an address space cap (the last and the
 * fork ban not in AddressSanitizer builds: its shadow memory needs
 * terabytes of address space, its leak check a thread at exit).
 *
 * Failure: anything wrong (bad arguments, a malformed request, a
 * failed send) ends the process; the pool sees it die, answers that
 * request temperror and starts another helper.  libspf2 aborting ends it
 * the same way.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "callout.h"
#include "spf_eval.h"
#include "spf_proto.h"

#define SOCK_FD    3
#define EXIT_USAGE 64
#define EXIT_SETUP 71
#define FDS_MAX    32

#if defined(__SANITIZE_ADDRESS__)
#define HELPER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HELPER_ASAN 1
#endif
#endif

typedef struct helper_opts {
	const char *servers[CONFIG_NAMESERVERS_MAX];
	size_t nservers;
	unsigned dns_ms, mem_mb, cpu_s;
	const char *receiver;
} helper_opts;

static unsigned
helper_number(const char *text)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v > 1000000)
		exit(EXIT_USAGE);
	return (unsigned)v;
}

static void
helper_args(int argc, char **argv, helper_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dns_ms = 5000;
	o->mem_mb = 256;
	o->cpu_s = 600;
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i],
		           *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL || opt[0] != '-' || opt[1] == '\0' ||
		    opt[2] != '\0')
			exit(EXIT_USAGE);
		switch (opt[1]) {
		case 'n':
			if (o->nservers >= CONFIG_NAMESERVERS_MAX)
				exit(EXIT_USAGE);
			o->servers[o->nservers++] = val;
			break;
		case 't':
			o->dns_ms = helper_number(val);
			break;
		case 'm':
			o->mem_mb = helper_number(val);
			break;
		case 'c':
			o->cpu_s = helper_number(val);
			break;
		case 'r':
			o->receiver = val;
			break;
		default:
			exit(EXIT_USAGE);
		}
	}
}

static int
helper_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};

	return setrlimit(resource, &rl);
}

/* Shut the process in; -1 when a limit cannot be set. */
static int
helper_confine(const helper_opts *o)
{
	int rc = 0;

	rc |= prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
	rc |= prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
	rc |= helper_limit(RLIMIT_CORE, 0);
#ifndef HELPER_ASAN
	/* LeakSanitizer needs a thread (clone) at exit */
	rc |= helper_limit(RLIMIT_NPROC, 0);
#endif
	rc |= helper_limit(RLIMIT_FSIZE, 0);
	rc |= helper_limit(RLIMIT_NOFILE, FDS_MAX);
	if (o->cpu_s > 0) {
		struct rlimit rl = {o->cpu_s, o->cpu_s + 5};

		rc |= setrlimit(RLIMIT_CPU, &rl);
	}
#ifndef HELPER_ASAN
	if (o->mem_mb > 0)
		rc |= helper_limit(RLIMIT_AS, (rlim_t)o->mem_mb << 20);
#endif
	return rc != 0 ? -1 : 0;
}

/* Answer one request packet; -1 to end the process. */
static int
helper_serve(spf_evaluator *ev, const unsigned char *buf, size_t len)
{
	spf_request_msg req;
	spf_response_msg resp;
	spf_answer ans;
	unsigned char out[SPF_MSG_MAX];
	size_t n;
	ssize_t sent;

	if (spf_proto_get_request(buf, len, &req) < 0)
		return -1;
	(void)spf_evaluator_check(ev, req.ip, req.helo, req.sender,
	                          cv_now_ms() + req.budget_ms, &ans);
	memset(&resp, 0, sizeof(resp));
	resp.seq = req.seq;
	resp.result = ans.result;
	(void)snprintf(resp.explanation, sizeof(resp.explanation), "%s",
	               ans.explanation);
	(void)snprintf(resp.problem, sizeof(resp.problem), "%s", ans.problem);
	n = spf_proto_put_response(&resp, out);
	if (n == 0)
		return -1;
	while ((sent = send(SOCK_FD, out, n, MSG_NOSIGNAL)) < 0 &&
	       errno == EINTR)
		;
	return sent == (ssize_t)n ? 0 : -1;
}

int
main(int argc, char **argv)
{
	unsigned char buf[SPF_MSG_MAX];
	char err[CV_ERROR_MAX];
	helper_opts o;
	cv_resolver *res;
	spf_evaluator *ev;
	int status = 0;

	helper_args(argc, argv, &o);
	if (helper_confine(&o) < 0)
		return EXIT_SETUP;
	res =
	    cv_resolver_new(o.servers, o.nservers, o.dns_ms, err, sizeof(err));
	if (res == NULL)
		return EXIT_SETUP;
	ev = spf_evaluator_new(res, o.receiver, err, sizeof(err));
	if (ev == NULL) {
		cv_resolver_free(&res);
		return EXIT_SETUP;
	}
	for (;;) {
		ssize_t n = recv(SOCK_FD, buf, sizeof(buf), MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF: the daemon is done with us */
		if ((size_t)n > sizeof(buf) ||
		    helper_serve(ev, buf, (size_t)n) < 0) {
			status = 1;
			break;
		}
	}
	spf_evaluator_free(&ev);
	cv_resolver_free(&res);
	return status;
}
