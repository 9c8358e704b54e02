#!/bin/sh
# run.sh: the benchmarks of callout-milter (`make bench`, never part of
# `make check`).
#
# Inside a network namespace of its own (tests/e2e/netns.sh, as the
# end-to-end tests), with fakedns, fakesmtp.py as the sender domains'
# mail servers and the real daemon, it measures (tests/bench/steps.sh):
#   1. the cost on the MTA: messages/s through a private Postfix
#      (smtp-source -s 20 -m 2000) without and with the milter, senders
#      cached;
#   2. cold probes: 1000 senders, 50 domains, servers that wait 50 ms
#      before every reply: decisions/s, p50/p99 against the floor;
#   3. one probe per address: 200 sessions, one unknown sender;
#   4. 1000 concurrent sessions whose callouts take 5 s: time until all
#      are decided, peak memory and threads of the daemon;
#   5. instructions per cached decision (callgrind on bench-cached).
# It prints a summary table and writes it, with the date, the machine,
# the commands and the raw numbers, into BENCHMARKS.md at the top of the
# source tree, between the "bench:begin" and "bench:end" marks; text
# outside the marks (the analysis) is kept.
#
# Needs root and network namespaces (else it says why and exits 77) and
# python3 with dnslib; installs Postfix like tests/e2e-postfix.sh when
# missing.  Guarantees: every process it starts is stopped by pid, at
# the latest by the EXIT trap, which then deletes the namespace (also on
# failure or interruption); every step is bounded in time and the whole
# run stops starting steps after BN_BUDGET seconds (default 540); a step
# that fails is a "failed" row with its reason, and the run goes on.
# Each command is cut to what is left of 570 s (bn_cap), so the whole
# run, clean-up included, stays under ten minutes.
# Exit status: 0 when every step ran (targets missed or not), 1 when a
# step failed, 77 when it cannot run here.
#
# Environment: top_srcdir, top_builddir (set by make), PYTHON3, TL_KEEP
# (keep the temp dir), BN_BUDGET, BN_COLD_C (item 2's sessions at once),
# BN_OUT (the file to write instead of $top_srcdir/BENCHMARKS.md),
# BN_ITEMS (the items to run, default "1 2 3 4 5").

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
# shellcheck source=tests/e2e/netns.sh
. "$top_srcdir/tests/e2e/netns.sh"
. "$top_srcdir/tests/bench/world.sh"
. "$top_srcdir/tests/bench/steps.sh"

BN_BUDGET=${BN_BUDGET:-540}
BN_OUT=${BN_OUT:-$top_srcdir/BENCHMARKS.md}

en_init
top_builddir=$(cd "$top_builddir" && pwd)
# sockets: 1000 sessions, 1000 probes, and the fake servers' ends
# shellcheck disable=SC3045 # dash, bash and busybox sh all have -n, -H
ulimit -n "$(ulimit -Hn)" 2>/dev/null
EN_NS=callout-bench-$$
: >"$T/results"
: >"$T/raw.md"
bn_start=$(bn_ms)
# no command runs past this (bn_cap), whatever BN_BUDGET says
BN_HARD_END=$((bn_start + 570000))
bn_failed=0
bn_load0=$(cut -d ' ' -f 1-3 /proc/loadavg)

echo "# callout-milter benchmarks (temp dir $T, namespace $EN_NS)"
en_up
bn_world

# bn_step N FUNCTION: run one measurement; a failure is a table row.
bn_step() {
	bn_used=$((($(bn_ms) - bn_start) / 1000))
	echo "== item $1 (${bn_used}s used)"
	if [ "$bn_used" -ge "$BN_BUDGET" ]; then
		bn_res "$1" "(not run)" failed "" \
			"failed: time budget of ${BN_BUDGET}s used up"
		bn_failed=$((bn_failed + 1))
		return
	fi
	BN_WHY=
	if ! "$2"; then
		bn_res "$1" "(step)" failed "" "failed: ${BN_WHY:-unknown reason}"
		bn_raw "" "**Item $1 failed: ${BN_WHY:-unknown reason}**"
		bn_failed=$((bn_failed + 1))
	fi
	en_milter_stop
	bn_smtp_stop
}

for bn_item in ${BN_ITEMS:-1 2 3 4 5}; do
	bn_step "$bn_item" "bn_item$bn_item"
	if [ "$bn_item" = 1 ]; then
		bn_postfix_stop
		# shellcheck disable=SC2034 # read by netns.sh's clean-up
		EN_MTA_STOP=
	fi
done
bn_total=$((($(bn_ms) - bn_start) / 1000))

# ------------------------------------------------------------ report

bn_machine() {
	bn_cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)
	bn_mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs ($bn_cpu), $bn_mem memory," \
		"kernel $(uname -r) ($(uname -m))"
	echo "- Software: $(postconf -d -h mail_version 2>/dev/null |
		sed 's/^/Postfix /'), $("$PYTHON3" --version 2>&1)," \
		"$(valgrind --version 2>/dev/null)," \
		"$("$MILTER" -V 2>/dev/null | head -n 1)"
	echo "- Build: \`$(sed -n 's/^  \$ //p' "$top_builddir/config.log" |
		head -n 1)\`"
	echo "- Run: \`make bench\` (tests/bench/run.sh), ${bn_total}s in all;" \
		"load average before it $bn_load0, after it" \
		"$(cut -d ' ' -f 1-3 /proc/loadavg) (anything else running on" \
		"the machine competes for the same CPUs)"
}

bn_table() {
	echo "| # | measure | value | target | status |"
	echo "|---|---|---|---|---|"
	awk -F '\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3,
		$4, $5 }' "$T/results"
}

bn_report() {
	{
		echo "<!-- bench:begin: written by \`make bench\` (tests/bench/run.sh); edit outside these marks -->"
		echo "## Results of the last run"
		echo
		bn_machine
		echo
		bn_table
		echo
		echo "## Commands and raw numbers"
		echo
		cat "$T/raw.md"
		echo
		echo "<!-- bench:end -->"
	} >"$T/generated.md"
	if [ -f "$BN_OUT" ] && grep -q '^<!-- bench:begin' "$BN_OUT" &&
	    grep -q '^<!-- bench:end -->' "$BN_OUT"; then
		awk -v gen="$T/generated.md" '
			/^<!-- bench:begin/ { while ((getline l < gen) > 0)
				print l; skip = 1; next }
			/^<!-- bench:end -->/ { skip = 0; next }
			!skip { print }' "$BN_OUT" >"$T/new.md"
	else
		{
			echo "# callout-milter benchmarks"
			echo
			echo "Measured by \`make bench\`; see tests/bench/run.sh."
			echo
			cat "$T/generated.md"
		} >"$T/new.md"
	fi
	cat "$T/new.md" >"$BN_OUT" && echo "# wrote $BN_OUT"
}

echo
echo "Summary (${bn_total}s):"
bn_table | sed 's/^/  /'
bn_report
[ "$bn_failed" -eq 0 ]
