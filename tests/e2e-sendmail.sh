#!/bin/sh
# e2e-sendmail.sh: callout-milter behind a real Sendmail, end to end.
#
# Debian lets only one MTA package be installed, so Sendmail is not
# installed: its packages (sendmail-bin, sendmail-cf, and libwrap0 when
# the system lacks it) are fetched with "apt-get download" and unpacked
# with "dpkg -x" into the temp dir, and run from there as root with a
# sendmail.cf of its own, built with m4 from an .mc file
# (INPUT_MAIL_FILTER with the README's F=T and T=C:10s;S:10s;R:10s;E:5m),
# its own queue, pid file and aliases, listening on the namespace's MTA
# addresses (tests/e2e/netns.sh).  The local mailer is replaced by a
# program that writes one file per message and recipient, read back by
# the scenarios of tests/e2e/scenarios.sh, the same as under Postfix.
#
# FEATURE(`accept_unresolvable_domains') is set: without it Sendmail
# itself rejects a sender domain that does not resolve (553 5.1.8) at
# MAIL FROM, before the filter is asked.
#
# Needs root, network namespaces, m4 (installed with apt-get when
# missing) and a package mirror for "apt-get download" (else SKIP).

. "${top_srcdir:-$(dirname "$0")/..}/tests/e2e/netns.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/e2e/scenarios.sh"

en_init
SM=$T/sendmail
mkdir -p "$SM/debs" "$SM/root" "$SM/queue"
chmod 0700 "$SM/queue"

# sm_unpack: fetch and unpack Sendmail, or skip.
sm_unpack() {
	if ! command -v apt-get >/dev/null 2>&1 ||
	    ! command -v dpkg >/dev/null 2>&1; then
		tl_skip_all "apt-get and dpkg are needed to fetch Sendmail"
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! command -v m4 >/dev/null 2>&1; then
		timeout 600 apt-get install -y -q --no-install-recommends \
			-o DPkg::Lock::Timeout=300 m4 >"$SM/apt.log" 2>&1 ||
			tl_skip_all "m4 is needed: $(tail -n 1 "$SM/apt.log")"
	fi
	sm_pkgs="sendmail-bin sendmail-cf"
	[ -e /usr/lib/x86_64-linux-gnu/libwrap.so.0 ] ||
	[ -e /lib/x86_64-linux-gnu/libwrap.so.0 ] ||
	ldconfig -p 2>/dev/null | grep -q 'libwrap\.so\.0 ' ||
		sm_pkgs="$sm_pkgs libwrap0"
	# apt-get downloads as _apt where it can
	! getent passwd _apt >/dev/null 2>&1 || chown _apt "$SM/debs"
	# shellcheck disable=SC2086 # a list of words
	if ! (cd "$SM/debs" && timeout 300 apt-get download -q $sm_pkgs) \
	    >"$SM/apt.log" 2>&1; then
		timeout 300 apt-get update -q >>"$SM/apt.log" 2>&1
		# shellcheck disable=SC2086 # a list of words
		(cd "$SM/debs" && timeout 300 apt-get download -q $sm_pkgs) \
		    >>"$SM/apt.log" 2>&1 ||
			tl_skip_all "apt-get download $sm_pkgs failed:" \
				"$(grep -v '^W:' "$SM/apt.log" | tail -n 1)"
	fi
	for sm_d in "$SM"/debs/*.deb; do
		dpkg -x "$sm_d" "$SM/root" ||
			tl_bail "cannot unpack $sm_d"
	done
	SM_BIN=$SM/root/usr/libexec/sendmail/sendmail
	SM_CF=$SM/root/usr/share/sendmail/cf
	if [ ! -x "$SM_BIN" ] || [ ! -f "$SM_CF/m4/cf.m4" ]; then
		tl_bail "the unpacked Sendmail lacks $SM_BIN or $SM_CF/m4/cf.m4"
	fi
	# setgid (mail) in the package: the loader would ignore
	# LD_LIBRARY_PATH; root needs no setgid anyway
	chmod g-s "$SM_BIN"
	SM_LIBS=$SM/root/lib/x86_64-linux-gnu:$SM/root/usr/lib/x86_64-linux-gnu
}

sm_unpack
en_up
sc_world

# ----------------------------------------------------------- Sendmail
en_deliver_script "$T/deliver.sh" "$T/mail"
printf '# the e2e test: no aliases\n' >"$SM/aliases"
cat >"$SM/sendmail.mc" <<EOF
divert(-1)
# the callout-milter end-to-end test's private Sendmail instance
divert(0)dnl
VERSIONID(\`callout-milter e2e')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.example.net')dnl
define(\`QUEUE_DIR', \`$SM/queue')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`ALIAS_FILE', \`$SM/aliases')dnl
define(\`HELP_FILE', \`$SM/helpfile')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confDEF_USER_ID', \`65534:65534')dnl
define(\`confLOG_LEVEL', \`9')dnl
dnl the temp dir is below the world-writable /tmp
define(\`confDONT_BLAME_SENDMAIL', \`MapInUnsafeDirPath,TrustStickyBit')dnl
define(\`LOCAL_MAILER_PATH', \`$T/deliver.sh')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver.sh \$u')dnl
define(\`LOCAL_MAILER_FLAGS', \`Pn9')dnl
MODIFY_MAILER_FLAGS(\`LOCAL', \`-w')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Family=inet, Addr=$EN_MTA4, Port=smtp, Name=MTA-v4')dnl
DAEMON_OPTIONS(\`Family=inet6, Addr=$EN_MTA6, Port=smtp, Name=MTA-v6')dnl
dnl callout-milter, as README.md says
INPUT_MAIL_FILTER(\`callout-milter',
	\`S=local:$T/milter.sock, F=T, T=C:10s;S:10s;R:10s;E:5m')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
LOCAL_CONFIG
Cwexample.net
Cwmx.example.net
EOF
m4 -D_CF_DIR_="$SM_CF/" "$SM_CF/m4/cf.m4" "$SM/sendmail.mc" \
	>"$SM/sendmail.cf" 2>"$SM/m4.err" ||
	tl_bail "m4 failed: $(cat "$SM/m4.err")"

# Sendmail qualifies the machine's host name at start, in DNS, and
# waits a long time when it cannot: it runs in a UTS namespace of its
# own named mx.example.net, which fakedns knows.
command -v unshare >/dev/null 2>&1 || tl_skip_all "unshare is needed"
cat >"$SM/run.sh" <<EOF
#!/bin/sh
# run the unpacked sendmail (in a UTS namespace of its own: unshare --uts)
# never rename the machine: refuse to run in the test's own UTS namespace
[ "\$(readlink /proc/self/ns/uts)" != "$(readlink /proc/$$/ns/uts)" ] || exit 1
hostname mx.example.net || exit 1
LD_LIBRARY_PATH=$SM_LIBS
export LD_LIBRARY_PATH
exec $SM_BIN -C $SM/sendmail.cf "\$@"
EOF
chmod 0755 "$SM/run.sh"
en_exec unshare --uts "$SM/run.sh" -bi >"$SM/newaliases.log" 2>&1 ||
	tl_bail "newaliases failed: $(cat "$SM/newaliases.log")"
en_bg "$SM/sendmail.out" unshare --uts "$SM/run.sh" -bD
SM_PID=$EN_PID
# shellcheck disable=SC2317 # called through EN_MTA_STOP
sm_stop() {
	[ -z "$SM_PID" ] || tl_stop "$SM_PID"
	SM_PID=
}
EN_MTA_STOP=sm_stop
tl_wait 30 en_port_open "$EN_MTA4" 25 ||
	tl_bail "sendmail does not listen: $(cat "$SM/sendmail.out")"

# ------------------------------------------------------ what it says
mta_name=Sendmail
MTA_ADDR=$EN_MTA4
MTA_ADDR6=$EN_MTA6
mta_pid() { echo "$SM_PID"; }
mta_log() { cat "$SM/sendmail.out" 2>/dev/null; }
mta_norm() {
	sed -E 's/^  250 2\.0\.0 [0-9A-Za-z]+ Message accepted/  250 2.0.0 QID Message accepted/'
}
# Sendmail puts "<RCPT>... " in front of the first line of a reply to
# RCPT whose code is 050, 250, 252, 450, 550, 553 or 554 (its fmtmsg()),
# so in front of the filter's 550 replies, not of its 451 ones
mta_to_prefix() { printf '<%s>... ' "$1"; }
w_mail() { w_cmd "MAIL FROM:<$1>" "250 2.1.0 <$1>... Sender ok"; }
w_rcpt() { w_cmd "RCPT TO:<$1>" "250 2.1.5 <$1>... Recipient ok"; }
w_data() { w_cmd DATA "354 End data with <CR><LF>.<CR><LF>"; }
w_dot() { w_cmd . "250 2.0.0 QID Message accepted for delivery"; }
w_quit() { w_cmd QUIT "221 2.0.0 mx.example.net closing connection"; }
w_tempfail_lost() { w_cmd "$1" "451 4.3.2 Please try again later"; }
w_down() {
	w_cmd "MAIL FROM:<$1>" "451 4.3.2 Please try again later"
	w_cmd "RCPT TO:<$2>" "503 5.0.0 Need MAIL before RCPT"
}

sc_all
tl_done
