dnl callout-milter for Sendmail: include this from sendmail.mc, e.g.
dnl   include(`/etc/mail/m4/callout-milter.m4')dnl
dnl and rebuild sendmail.cf (Debian: sendmailconfig; else make -C /etc/mail).
dnl
dnl F=T: tempfail when the filter is unavailable.  callout-milter waits at
dnl most 8 s for a verdict under Sendmail (CalloutMaxWait auto): R: must
dnl stay above that.  Raise both together for a longer wait.
INPUT_MAIL_FILTER(`callout-milter',
	`S=local:/run/callout-milter/callout-milter.sock, F=T, T=C:10s;S:10s;R:10s;E:5m')dnl
