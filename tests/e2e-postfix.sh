#!/bin/sh
# e2e-postfix.sh: callout-milter behind a real Postfix, end to end.
#
# A private Postfix instance (its own main.cf and master.cf, queue and
# data directories in the temp dir, nothing chrooted, the README's milter
# settings: milter_default_action = tempfail, milter_protocol 6, timeouts
# 10s/30s) runs in a network namespace (tests/e2e/netns.sh) with the real
# daemon, fakedns and the sender domains' fake mail servers on port 25.
# tests/e2e/smtpclient.py plays the sending client from documentation
# addresses outside mynetworks, and every scenario of tests/e2e/scenarios.sh
# asserts the exact replies it gets.  Accepted mail goes through a pipe
# transport into one file per message and recipient, which is read back.
#
# Needs root and network namespaces (else SKIP).  Postfix is installed
# with apt-get when missing, never started as the system's MTA (debconf
# "No configuration", policy-rc.d, systemctl disable), and never installed
# where it would replace another MTA (SKIP).  The system's /etc/postfix is
# only read (postfix-files), never written.

. "${top_srcdir:-$(dirname "$0")/..}/tests/e2e/netns.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/e2e/scenarios.sh"

en_init
PF_MASTER=/usr/lib/postfix/sbin/master

# pf_install: install postfix if missing, or skip.
pf_install() {
	if command -v postfix >/dev/null 2>&1 && [ -x "$PF_MASTER" ]; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 ||
		tl_skip_all "postfix is not installed and there is no apt-get"
	export DEBIAN_FRONTEND=noninteractive
	pf_sim=$(apt-get install -s -q --no-install-recommends postfix 2>&1)
	if ! printf '%s\n' "$pf_sim" | grep -q '^Inst postfix '; then
		timeout 300 apt-get update -q >"$T/apt.log" 2>&1
		pf_sim=$(apt-get install -s -q --no-install-recommends \
			postfix 2>&1)
	fi
	printf '%s\n' "$pf_sim" | grep -q '^Inst postfix ' ||
		tl_skip_all "postfix is not installed and apt-get cannot" \
			"install it: $(printf '%s\n' "$pf_sim" | tail -n 1)"
	if printf '%s\n' "$pf_sim" | grep -q '^Remv '; then
		tl_skip_all "installing postfix would remove" \
			"$(printf '%s\n' "$pf_sim" | sed -n 's/^Remv \([^ ]*\).*/\1/p' |
			tr '\n' ' ')(the machine's MTA is left alone)"
	fi
	echo "# installing postfix (debconf: No configuration, not started)"
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# callout-milter e2e test: start nothing\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		EN_POLICY_RC=/usr/sbin/policy-rc.d
	fi
	timeout 600 apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=300 postfix >"$T/apt.log" 2>&1
	pf_rc=$?
	if [ -n "${EN_POLICY_RC:-}" ]; then
		rm -f "$EN_POLICY_RC"
		EN_POLICY_RC=
	fi
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable postfix >/dev/null 2>&1
	fi
	# had the package started the system's instance all the same
	if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1
	fi
	if [ "$pf_rc" -ne 0 ] || [ ! -x "$PF_MASTER" ]; then
		tl_skip_all "apt-get install postfix failed: $(tail -n 3 "$T/apt.log")"
	fi
}

pf_install
en_up
sc_world

# ------------------------------------------------------------ Postfix
PF=$T/postfix
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
en_deliver_script "$T/deliver.sh" "$T/mail"
cat >"$PF/etc/main.cf" <<EOF
# the callout-milter end-to-end test's private Postfix instance
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.net
mydomain = example.net
myorigin = example.net
mydestination = example.net, mx.example.net
inet_interfaces = $EN_MTA4, [$EN_MTA6]
inet_protocols = ipv4, ipv6
# the test clients (192.0.2.100, .200, 2001:db8::100) are not in here:
# the milter decides
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_banner = \$myhostname ESMTP
biff = no
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
local_transport = filedrop
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
# callout-milter, as README.md says
smtpd_milters = unix:$T/milter.sock
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
EOF
{
	cat <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
smtp      inet  n       -       n       -       -       smtpd
EOF
	en_postfix_services
	cat <<EOF
filedrop  unix  -       n       n       -       -       pipe
  flags=R user=nobody argv=$T/deliver.sh \${user}
EOF
} >"$PF/etc/master.cf"
en_exec postfix -c "$PF/etc" check >"$PF/check.log" 2>&1 ||
	tl_bail "postfix check failed: $(cat "$PF/check.log")"
# in the foreground (-d), a session leader (setsid, which does not fork
# here) so that its SIGTERM reaches all its children
en_bg "$PF/master.out" setsid "$PF_MASTER" -c "$PF/etc" -d
PF_PID=$EN_PID
# shellcheck disable=SC2317 # called through EN_MTA_STOP
pf_stop() {
	[ -z "$PF_PID" ] || tl_stop "$PF_PID"
	PF_PID=
}
EN_MTA_STOP=pf_stop
tl_wait 30 en_port_open "$EN_MTA4" 25 ||
	tl_bail "postfix does not listen: $(cat "$PF/master.out" "$PF/maillog" 2>/dev/null)"

# ------------------------------------------------------ what it says
mta_name=Postfix
MTA_ADDR=$EN_MTA4
MTA_ADDR6=$EN_MTA6
mta_pid() { echo "$PF_PID"; }
mta_log() { cat "$PF/maillog" 2>/dev/null; }
mta_norm() { sed -E 's/queued as [0-9A-Za-z]+$/queued as QID/'; }
mta_to_prefix() { :; }
w_mail() { w_cmd "MAIL FROM:<$1>" "250 2.1.0 Ok"; }
w_rcpt() { w_cmd "RCPT TO:<$1>" "250 2.1.5 Ok"; }
w_data() { w_cmd DATA "354 End data with <CR><LF>.<CR><LF>"; }
w_dot() { w_cmd . "250 2.0.0 Ok: queued as QID"; }
w_quit() { w_cmd QUIT "221 2.0.0 Bye"; }
w_tempfail_lost() { w_cmd "$1" "451 4.7.1 Service unavailable - try again later"; }
w_down() {
	w_cmd "MAIL FROM:<$1>" "451 4.7.1 Service unavailable - try again later"
	w_cmd "RCPT TO:<$2>" "503 5.5.1 Error: need MAIL command"
}

sc_all
tl_done
