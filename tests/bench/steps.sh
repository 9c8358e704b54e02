# steps.sh: the five measurements of `make bench` (tests/bench/run.sh).
# Sourced, never run; on top of tests/bench/world.sh.
#
# Each bn_itemN records its figures with bn_res (a row of the summary
# table) and what it ran and got with bn_raw (the raw section of
# BENCHMARKS.md).  It returns 1 with a reason in BN_WHY when it could not
# measure; run.sh then records the step as failed and stops whatever the
# step started (the daemon, its fakesmtp).  Every command is bounded in
# time (timeout, milterload --limit).

# shellcheck shell=sh disable=SC2034,SC2154 # shared with run.sh, world.sh

# bn_res ITEM MEASURE VALUE TARGET STATUS: one row of the summary table.
bn_res() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$T/results"
	printf '  %-3s %-58s %-12s %s\n' "$1" "$2" "$3" "$5"
}

# bn_raw LINE...: lines for the raw section.
bn_raw() {
	printf '%s\n' "$@" >>"$T/raw.md"
}

# bn_raw_file FILE: a file's text as a code block of the raw section.
bn_raw_file() {
	{
		echo '```'
		cat "$1" 2>/dev/null
		echo '```'
	} >>"$T/raw.md"
}

# bn_div A B: A / B with 3 significant decimals ("?" if B is 0).
bn_div() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "?";
		else printf "%.3f\n", a / b }'
}

# bn_pctl FILE P: the P-th percentile of the numbers in FILE (one a line).
bn_pctl() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		if (NR == 0) { print "?"; exit }
		k = int(p / 100 * NR + 0.5); if (k < 1) k = 1; if (k > NR) k = NR
		print v[k] }'
}

# bn_elapsed LOG OUT: the elapsed=<ms> of the daemon's probed decisions
# (cached=no) in LOG, one a line, into OUT; prints their count.
bn_elapsed() {
	grep 'sender verify ' "$1" | grep ' cached=no ' |
		sed -n 's/.* elapsed=\([0-9]*\).*/\1/p' >"$2"
	wc -l <"$2" | tr -d ' '
}

# bn_status VALUE OP LIMIT: "met" or "missed" (OP: le, ge, eq).
bn_status() {
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		if (v == "?" || v == "") exit 1
		if (op == "le") exit !(v + 0 <= l + 0)
		if (op == "ge") exit !(v + 0 >= l + 0)
		exit !(v + 0 == l + 0) }'; then
		echo met
	else
		echo missed
	fi
}

# ------------------------------------------------- 1. cost on the MTA

# bn_busy: CPU ticks the whole machine spent busy so far (/proc/stat).
bn_busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# bn_ticks PID: CPU ticks (user + system) the process used so far.
bn_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# bn_mta_run LABEL MILTER: one smtp-source run of 2000 messages; sets
# BN_RATE (messages per second), BN_CPU (ms of CPU the whole machine
# spent per message) and BN_MCPU (ms the daemon spent per message).
# MILTER yes: 2000 new cached decisions must show in the daemon's log.
bn_mta_run() {
	bn_b0=$(bn_busy)
	bn_m0=$(bn_ticks "$EN_MILTER_PID")
	bn_before=0
	bn_port=25
	if [ "$2" = yes ]; then
		bn_before=$(grep -c ' cached=yes ' "$EN_MILTER_LOG")
		bn_port=2525
	fi
	if ! bn_source "$T/source.$1.out" "$bn_port" -s 20 -m 2000 -c \
	    -f bench@ok.test -t user@example.net; then
		BN_WHY="smtp-source ($1) failed: $(tr '\r' '\n' \
			<"$T/source.$1.out" | grep -v '^[0-9]*$' | tail -n 2)"
		return 1
	fi
	if [ "$2" = yes ]; then
		bn_after=$(grep -c ' cached=yes ' "$EN_MILTER_LOG")
		if [ "$((bn_after - bn_before))" -ne 2000 ]; then
			BN_WHY="$1: the daemon logged $((bn_after - bn_before)) cached decisions, not 2000"
			return 1
		fi
	fi
	bn_hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	BN_CPU=$(awk -v a="$bn_b0" -v b="$(bn_busy)" -v hz="$bn_hz" \
		'BEGIN { printf "%.2f", (b - a) * 1000 / hz / 2000 }')
	BN_MCPU=$(awk -v a="$bn_m0" -v b="$(bn_ticks "$EN_MILTER_PID")" \
		-v hz="$bn_hz" 'BEGIN { printf "%.2f", (b - a) * 1000 / hz / 2000 }')
	BN_RATE=$(awk -v ms="$BN_SOURCE_MS" 'BEGIN { printf "%.1f", 2000000 / ms }')
	bn_raw "- $1: 2000 messages in $BN_SOURCE_MS ms: **$BN_RATE msg/s**; CPU per message: $BN_CPU ms on the whole machine, of which $BN_MCPU ms in callout-milter"
	echo "  ($1: $BN_SOURCE_MS ms, $BN_RATE msg/s, CPU/msg $BN_CPU ms, daemon $BN_MCPU ms)"
}

# bn_mta_warm: one message, whose sender is probed (and then cached).
bn_mta_warm() {
	bn_source "$T/source.warm.out" 2525 -m 1 -f bench@ok.test \
		-t user@example.net || {
		BN_WHY="warm-up message failed: $(tail -n 2 "$T/source.warm.out")"
		return 1
	}
	grep -q 'sender verify ok for <bench@ok.test>.* cached=no' \
		"$EN_MILTER_LOG" || {
		BN_WHY="warm-up: no probe of bench@ok.test in the daemon's log"
		return 1
	}
}

bn_item1() {
	bn_postfix_install || {
		BN_WHY="postfix is not installed and cannot be"
		return 1
	}
	bn_postfix_up || return 1
	bn_smtp_start ok 0 --listen "198.51.100.10:25=$T/pipelining.script" ||
		return 1
	bn_conf mta "SPF no"
	bn_milter_start "$T/mta.conf" || return 1
	bn_raw "### 1. Cost on the MTA" "" \
		"Private Postfix $(postconf -d -h mail_version 2>/dev/null) in the namespace (main.cf as in tests/e2e-postfix.sh, \`local_transport = discard\`, \`in_flow_delay = 0s\`; smtpd on port 25 without a milter and on port 2525 with \`-o smtpd_milters=unix:.../milter.sock\`), milter settings of README.md. Load, from inside the namespace:" \
		"" '```' \
		"smtp-source -s 20 -m 2000 -c -f bench@ok.test -t user@example.net 192.0.2.1:25    # no milter" \
		"smtp-source -s 20 -m 2000 -c -f bench@ok.test -t user@example.net 192.0.2.1:2525  # callout-milter" \
		'```' "" \
		"Daemon: \`Cache memory\`, \`SPF no\` (the cached callout decision alone), then \`SPF yes\` (the default: an SPF check through the helpers at every MAIL FROM). The cache is warmed by one message first (one probe of bench@ok.test); every measured message is then a cached decision, checked in the daemon's log (2000 new \`cached=yes\` lines per run). Two rounds, alternating." ""
	bn_sum_no=0
	bn_sum_mi=0
	bn_mta_warm || return 1
	for bn_round in 1 2; do
		bn_mta_run "no-milter-$bn_round" no || return 1
		bn_sum_no=$(awk -v a="$bn_sum_no" -v b="$BN_RATE" 'BEGIN { print a + b }')
		bn_cpu_no=$BN_CPU
		bn_mta_run "milter-cached-$bn_round" yes || return 1
		bn_sum_mi=$(awk -v a="$bn_sum_mi" -v b="$BN_RATE" 'BEGIN { print a + b }')
		bn_cpu_mi=$BN_CPU
		bn_mcpu_mi=$BN_MCPU
	done
	bn_no=$(awk -v s="$bn_sum_no" 'BEGIN { printf "%.1f", s / 2 }')
	bn_mi=$(awk -v s="$bn_sum_mi" 'BEGIN { printf "%.1f", s / 2 }')
	bn_ratio=$(bn_div "$bn_mi" "$bn_no")
	bn_res 1 "messages/s through Postfix, no milter (mean of 2)" "$bn_no" "" info
	bn_res 1 "messages/s, callout-milter, sender cached, SPF no" "$bn_mi" "" info
	bn_res 1 "ratio milter/no milter" "$bn_ratio" ">= 0.9" \
		"$(bn_status "$bn_ratio" ge 0.9)"
	bn_res 1 "CPU ms per message, whole machine: no milter / milter (round 2)" \
		"$bn_cpu_no / $bn_cpu_mi" "" info
	bn_res 1 "CPU ms per message in callout-milter itself (round 2)" \
		"$bn_mcpu_mi" "" info
	# the default SPF yes: a fresh daemon, warmed again
	en_milter_stop
	bn_conf mta-spf "SPF yes"
	bn_milter_start "$T/mta-spf.conf" || return 1
	bn_mta_warm || return 1
	bn_mta_run "milter-cached-spf" yes || return 1
	bn_ratio=$(bn_div "$BN_RATE" "$bn_no")
	bn_res 1 "messages/s, sender cached, SPF yes (default)" "$BN_RATE" "" info
	bn_res 1 "ratio milter(SPF yes)/no milter" "$bn_ratio" ">= 0.9" \
		"$(bn_status "$bn_ratio" ge 0.9)"
	bn_raw "" "Ratio: mean with milter / mean without (SPF no): $(bn_div "$bn_mi" "$bn_no")."
	en_milter_stop
	bn_smtp_stop
	return 0
}

# ---------------------------------------------------- 2. cold probes

BN_COLD_C=${BN_COLD_C:-100}
BN_TUNED_COLD="Workers 256
QueueSize 2048
DomainConcurrency 32
MXConcurrency 32
DomainRatePerMinute 0"

# bn_cold LABEL PREFIX CONF-LINES [C]: one run of 1000 cold probes, C
# (default BN_COLD_C) sessions at once.
bn_cold() {
	bn_c=${4:-$BN_COLD_C}
	# shellcheck disable=SC2086 # CONF-LINES: one key a line
	(IFS='
'; bn_conf "cold-$1" "SPF no" $3)
	bn_milter_start "$T/cold-$1.conf" || return 1
	bn_load "$T/cold-$1.json" --sessions 1000 --concurrency "$bn_c" \
		--sender-fmt "$2{i}@d{d:02d}.bench.test" --domains 50 \
		--timeout 40
	bn_lrc=$?
	en_milter_stop
	[ -s "$T/cold-$1.json" ] || {
		BN_WHY="milterload ($1) gave no result: $(tail -n 2 "$T/cold-$1.json.err")"
		return 1
	}
	bn_n=$(bn_elapsed "$EN_MILTER_LOG" "$T/cold-$1.elapsed")
	bn_j=$T/cold-$1.json
	bn_p50=$(bn_json "$bn_j" 'j["rcpt_ms"]["p50"]')
	bn_p99=$(bn_json "$bn_j" 'j["rcpt_ms"]["p99"]')
	bn_rate=$(bn_json "$bn_j" 'j["decisions_per_s"]')
	bn_ver=$(bn_json "$bn_j" 'j["results"].get("continue", 0)')
	bn_lp50=$(bn_pctl "$T/cold-$1.elapsed" 50)
	bn_lp99=$(bn_pctl "$T/cold-$1.elapsed" 99)
	bn_res 2 "$1: decisions/s (1000 senders, 50 domains, $bn_c at once)" "$bn_rate" "" info
	bn_res 2 "$1: verified (of 1000)" "$bn_ver" "1000" "$(bn_status "$bn_ver" eq 1000)"
	bn_res 2 "$1: p50 ms per decision, client side (RCPT)" "$bn_p50" "<= 220" \
		"$(bn_status "$bn_p50" le 220)"
	bn_res 2 "$1: p99 ms per decision, client side" "$bn_p99" "" info
	bn_res 2 "$1: p50 / p99 ms, daemon log elapsed= ($bn_n probes)" "$bn_lp50 / $bn_lp99" "" info
	bn_raw "" "#### $1: $bn_c sessions at once (\`$({ echo "SPF no"; echo "$3"; } | grep . | tr '\n' ',' | sed 's/,$//; s/,/, /g')\`)" "" \
		"milterload.py exit status $bn_lrc; its output:" ""
	bn_raw_file "$bn_j"
	bn_raw "" "Daemon log elapsed= over $bn_n probed decisions: p50 $bn_lp50 ms, p90 $(bn_pctl "$T/cold-$1.elapsed" 90) ms, p99 $bn_lp99 ms, max $(bn_pctl "$T/cold-$1.elapsed" 100) ms."
	return 0
}

bn_item2() {
	# shellcheck disable=SC2046 # a list of words
	bn_smtp_start cold 0.05 $(bn_domain_listens "$T/pipelining.script") ||
		return 1
	bn_raw "" "### 2. Cold probes" "" \
		"50 domains d00..d49.bench.test, one MX address each (198.51.100.20-69), one fakesmtp.py for all with \`--delay 0.05\` (50 ms before every reply, the banner included) and PIPELINING advertised. 1000 distinct senders (20 per domain), MTA side played by tests/bench/milterload.py with $BN_COLD_C sessions at once (the daemon gets connect, HELO, MAIL, RCPT; the time measured is RCPT sent to RCPT answered). \`SPF no\`." "" \
		"The floor: connect (no added delay), banner 50 ms, EHLO 50 ms, then MAIL and RCPT sent together (pipelined) but answered one after the other, each after its own 50 ms: 50 + 50 + 50 + 50 = **200 ms** of server delay, plus the DNS lookups (MX, A, AAAA on fakedns) and loopback round trips (well under 1 ms each). QUIT is not waited for. Target: p50 <= 220 ms." "" \
		'```' \
		"milterload.py --socket unix:milter.sock --sessions 1000 --concurrency $BN_COLD_C --sender-fmt 'c{i}@d{d:02d}.bench.test' --domains 50" \
		'```'
	bn_cold tuned ct "$BN_TUNED_COLD" || return 1
	bn_cold tuned-light cl "$BN_TUNED_COLD" 20 || return 1
	bn_cold defaults cd "" || return 1
	bn_smtp_stop
	bn_res 2 "connections the 50 servers saw (3 runs of 1000)" \
		"$(bn_stat "$T/cold.stats" connections)" "3000" info
	return 0
}

# ------------------------------------------- 3. one probe per address

bn_item3() {
	bn_smtp_start one 0.25 \
		--listen "198.51.100.70:25=$T/pipelining.script" || return 1
	bn_conf one "SPF no"
	bn_milter_start "$T/one.conf" || return 1
	bn_load "$T/one.json" --sessions 200 --sender same@one.test \
		--timeout 40
	bn_lrc=$?
	en_milter_stop
	bn_smtp_stop
	[ -s "$T/one.json" ] || {
		BN_WHY="milterload gave no result: $(tail -n 2 "$T/one.json.err")"
		return 1
	}
	bn_conns=$(bn_stat "$T/one.stats" connections)
	bn_ver=$(bn_json "$T/one.json" 'j["results"].get("continue", 0)')
	bn_probed=$(grep 'sender verify ok for <same@one.test>' "$EN_MILTER_LOG" |
		grep -c ' cached=no ')
	bn_res 3 "connections the remote server saw (200 sessions, 1 sender)" \
		"$bn_conns" "1" "$(bn_status "$bn_conns" eq 1)"
	bn_res 3 "sessions verified (of 200)" "$bn_ver" "200" \
		"$(bn_status "$bn_ver" eq 200)"
	bn_raw "" "### 3. One probe per address" "" \
		"One domain one.test, its MX 198.51.100.70 a fakesmtp.py with \`--delay 0.25\` (a probe takes about 1 s), daemon on its defaults but \`SPF no\`. 200 milter sessions at once, all with MAIL FROM:<same@one.test>:" "" \
		'```' \
		"milterload.py --socket unix:milter.sock --sessions 200 --sender same@one.test" \
		'```' "" \
		"fakesmtp.py --stats: $(tr -d '\n' <"$T/one.stats" | tr -s ' ')" "" \
		"Decisions the daemon logged as probed (cached=no, joined callers included): $bn_probed. milterload.py exit status $bn_lrc:" ""
	bn_raw_file "$T/one.json"
	return 0
}

# --------------------------------------- 4. 1000 concurrent sessions

BN_TUNED_BIG="Workers 1024
QueueSize 2048
DomainConcurrency 100
MXConcurrency 100
DomainRatePerMinute 0"

# bn_big LABEL PREFIX CONF-LINES
bn_big() {
	# shellcheck disable=SC2086 # CONF-LINES: one key a line
	(IFS='
'; bn_conf "big-$1" "SPF no" $3)
	bn_milter_start "$T/big-$1.conf" || return 1
	bn_load "$T/big-$1.json" --sessions 1000 --timeout 40 \
		--sender-fmt "$2{i}@d{d:02d}.bench.test" --domains 50 \
		--watch-pid "$EN_MILTER_PID" --records "$T/big-$1.rec"
	bn_lrc=$?
	en_milter_stop
	bn_j=$T/big-$1.json
	[ -s "$bn_j" ] || {
		BN_WHY="milterload ($1) gave no result: $(tail -n 2 "$bn_j.err")"
		return 1
	}
	bn_all=$(bn_json "$bn_j" 'j["all_decided_s"]')
	bn_ok=$(bn_json "$bn_j" 'j["ok"]')
	bn_ver=$(bn_json "$bn_j" 'j["results"].get("continue", 0)')
	bn_unk=$(bn_json "$bn_j" 'j["results"].get("reply 451", 0)')
	bn_max=$(bn_json "$bn_j" 'j["rcpt_ms"]["max"] / 1000.0')
	bn_thr=$(bn_json "$bn_j" 'j["proc"]["peak_threads"]')
	bn_hwm=$(bn_json "$bn_j" 'j["proc"]["after"]["VmHWM"]')
	bn_base=$(bn_json "$bn_j" 'j["proc"]["before"]["VmRSS"]')
	bn_per=$(awk -v h="$bn_hwm" -v b="$bn_base" 'BEGIN {
		if (h == "?" || b == "?") print "?"; else printf "%.1f", (h - b) / 1000 }')
	# sessions whose MAIL (a callback that never waits) was answered
	# after more than 1 s, and sessions decided after 6 s
	bn_lmail=$(awk '$6 != "-" && $6 > 1000' "$T/big-$1.rec" | wc -l | tr -d ' ')
	bn_late=$(awk '$8 != "-" && $8 > 6000' "$T/big-$1.rec" | wc -l | tr -d ' ')
	bn_n=$(bn_elapsed "$EN_MILTER_LOG" "$T/big-$1.elapsed")
	bn_pmax=$(bn_pctl "$T/big-$1.elapsed" 100)
	bn_res 4 "$1: sessions answered (of 1000)" "$bn_ok" "1000" \
		"$(bn_status "$bn_ok" eq 1000)"
	bn_res 4 "$1: verified / unknown (451)" "$bn_ver / $bn_unk" "" info
	if [ "$bn_ver" = 1000 ] || [ "$1" != defaults ]; then
		bn_res 4 "$1: s until all decided (server answers RCPT after 5 s)" \
			"$bn_all" "<= 6" "$(bn_status "$bn_all" le 6)"
	else
		bn_res 4 "$1: s until all decided; held back ones unknown by CalloutMaxWait 8 s" \
			"$bn_all" "<= 8.5" "$(bn_status "$bn_max" le 8.5)"
	fi
	bn_res 4 "$1: sessions decided after 6 s / MAIL answered after 1 s" \
		"$bn_late / $bn_lmail" "" info
	bn_res 4 "$1: longest probe, daemon log elapsed= ms ($bn_n probed)" \
		"$bn_pmax" "" info
	bn_res 4 "$1: peak threads of the daemon" "$bn_thr" "" info
	bn_res 4 "$1: peak RSS (VmHWM) kB, at start kB" "$bn_hwm / $bn_base" "" info
	bn_res 4 "$1: memory per session, kB ((VmHWM - start) / 1000)" "$bn_per" "" info
	bn_raw "" "#### $1 (\`$({ echo "SPF no"; echo "$3"; } | grep . | tr '\n' ',' | sed 's/,$//; s/,/, /g')\`)" "" \
		"Sessions whose MAIL was answered after more than 1 s: $bn_lmail; decided after 6 s: $bn_late. Probed decisions in the daemon's log: $bn_n, elapsed= p50 $(bn_pctl "$T/big-$1.elapsed" 50) ms, max $bn_pmax ms. RCPT answers by second after the start (count, second): $(awk '$8 != "-" { print int($8 / 1000) }' "$T/big-$1.rec" | sort -n | uniq -c | awk '{ printf "%s%s at %ss", s, $1, $2; s = ", " }')." "" \
		"milterload.py exit status $bn_lrc; its output (proc: samples of /proc/PID/status every 20 ms; kB):" ""
	bn_raw_file "$bn_j"
	return 0
}

bn_item4() {
	printf 'pipelining\nrcpt delay 5\n' >"$T/slow.script"
	# shellcheck disable=SC2046 # a list of words
	bn_smtp_start big 0 $(bn_domain_listens "$T/slow.script") || return 1
	# shellcheck disable=SC3045 # every sh at hand has ulimit -n
	bn_raw "" "### 4. 1000 concurrent sessions" "" \
		"The 50 domains again, their servers now a fakesmtp.py that answers RCPT after 5 s (script \`rcpt delay 5\`, everything else at once). 1000 milter sessions at once, 1000 distinct senders (20 per domain), driven by tests/bench/milterload.py, not through Postfix: 1000 smtpd processes on this 2-core machine would measure Postfix's process start-up, and its default process limit is 100. milterload.py plays an MTA that does not name itself in {v}, so \`CalloutMaxWait auto\` is 8 s. ulimit -n $(ulimit -n)." "" \
		'```' \
		"milterload.py --socket unix:milter.sock --sessions 1000 --sender-fmt 's{i}@d{d:02d}.bench.test' --domains 50 --watch-pid PID" \
		'```'
	bn_big tuned-1 st "$BN_TUNED_BIG" || return 1
	bn_big tuned-2 su "$BN_TUNED_BIG" || return 1
	bn_big defaults sd "" || return 1
	bn_smtp_stop
	bn_res 4 "peak concurrent connections at the 50 servers" \
		"$(bn_stat "$T/big.stats" peak)" "" info
	return 0
}

# ------------------------------------------ 5. CPU per cached decision

bn_item5() {
	bn_b=$top_builddir/tests/bench/bench-cached
	[ -x "$bn_b" ] || { BN_WHY="$bn_b is not built"; return 1; }
	bn_raw "" "### 5. CPU per cached decision" "" \
		"tests/bench/bench-cached.c: one verified record stored as a probe stores it, then N calls of cv_engine_verify() for that address, each checked to be a cached verified answer. Callgrind counts instructions inside cv_engine_verify only (\`--toggle-collect\`), over N + 1 calls (the set-up makes one)." ""
	for bn_k in memory lmdb; do
		bn_l=
		bn_lshow=
		if [ "$bn_k" = lmdb ]; then
			rm -f "$T/bench.mdb" "$T/bench.mdb-lock"
			bn_l="-l $T/bench.mdb"
			bn_lshow=" -l cache.mdb"
		fi
		if command -v valgrind >/dev/null 2>&1; then
			# shellcheck disable=SC2086 # bn_l: empty or two words
			timeout "$(bn_cap 120)" valgrind --tool=callgrind \
				--toggle-collect=cv_engine_verify \
				--callgrind-out-file="$T/cg.$bn_k.out" \
				"$bn_b" -n 20000 $bn_l >"$T/cg.$bn_k.log" 2>&1
			bn_ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$T/cg.$bn_k.log")
			if [ -n "$bn_ir" ]; then
				bn_per=$(awk -v i="$bn_ir" 'BEGIN { printf "%.0f", i / 20001 }')
				bn_res 5 "instructions per cached decision ($bn_k cache, callgrind)" "$bn_per" "" info
				bn_raw "" "\`valgrind --tool=callgrind --toggle-collect=cv_engine_verify bench-cached -n 20000$bn_lshow\`: $bn_ir instructions collected, **$bn_per per decision**. The most expensive functions (inclusive):" ""
				callgrind_annotate --inclusive=yes "$T/cg.$bn_k.out" 2>/dev/null |
					grep -E '^ *[0-9,]+ .* \[' | sed 's/ \[[^]]*\]$//' |
					grep -v -e bench_loop -e clone.S -e start_thread |
					head -n 14 >"$T/cg.$bn_k.top"
				bn_raw_file "$T/cg.$bn_k.top"
			else
				bn_res 5 "instructions per cached decision ($bn_k, callgrind)" "failed" "" \
					"failed: $(tail -n 1 "$T/cg.$bn_k.log")"
			fi
		else
			bn_res 5 "instructions per cached decision (callgrind)" "failed" "" \
				"failed: valgrind is not installed"
		fi
		for bn_t in 1 2; do
			# shellcheck disable=SC2086
			bn_o=$(timeout "$(bn_cap 60)" "$bn_b" -n 1000000 -t "$bn_t" $bn_l 2>&1)
			bn_ns=$(printf '%s\n' "$bn_o" | sed -n 's/.*ns_per_decision \([0-9.]*\).*/\1/p')
			bn_dps=$(printf '%s\n' "$bn_o" | sed -n 's/.*decisions_per_s \([0-9]*\).*/\1/p')
			bn_res 5 "$bn_k cache, $bn_t thread(s): decisions/s (ns each)" \
				"${bn_dps:-?} (${bn_ns:-?})" "" info
			bn_raw "" "\`bench-cached -n 1000000 -t $bn_t$bn_lshow\`: $bn_o"
		done
	done
	bn_perf=$(timeout "$(bn_cap 60)" perf stat -x, -e instructions:u "$bn_b" -n 1000000 2>&1 >/dev/null |
		grep instructions | head -n 1)
	case $bn_perf in
	[0-9]*)
		bn_perf0=$(timeout "$(bn_cap 60)" perf stat -x, -e instructions:u "$bn_b" -n 0 2>&1 >/dev/null |
			grep instructions | cut -d, -f1)
		bn_res 5 "instructions per cached decision (perf stat)" \
			"$(awk -v a="${bn_perf%%,*}" -v b="$bn_perf0" 'BEGIN { printf "%.0f", (a - b) / 1000000 }')" "" info ;;
	*)
		bn_res 5 "perf stat -e instructions:u" "n/a" "" \
			"failed: ${bn_perf:-perf not found} (no PMU in this VM)"
		bn_raw "" "\`perf stat -e instructions:u bench-cached -n 1000000\`: ${bn_perf:-perf not found}" ;;
	esac
	return 0
}
