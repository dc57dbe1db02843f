# mta-stsd: build, test, run.  A plain Makefile: GNU make, Debian.
#
#   make          build mta-stsd and mta-stsctl (nothing else)
#   make deps     install the Debian packages the build and tests need
#                 (apt-get, as root); make run and make test do it first
#   make run      serve policies/ on https://127.0.0.1:8443
#   make test     every test: unit, golden, black-box, sanitizers, fuzz
#   make check    the quick suites (unit, golden, cli, man): no root
#   make fuzz     run each fuzzer FUZZ_SECONDS (default 60)
#   make bench    mta-stsd against nginx on loopback (never part of test;
#                 BENCH_SECONDS, BENCH_REPS, BENCH_DOMAINS, BENCH_ONLY)
#   make mutate   plant each bug of tests/mutate/list, expect a suite to
#                 catch it (never part of test)

CC		?= cc
CFLAGS		?= -O2 -g
VERSION		 = 0.1

WARNINGS	 = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes
HARDENING	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDENING	 = -pie -Wl,-z,relro -Wl,-z,now
ALL_CFLAGS	 = -std=c17 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -I$(S) \
		   $(WARNINGS) $(HARDENING) $(CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS	 = $(LDHARDENING) $(LDFLAGS)

# Debian packages that the build needs, those the tests run, and those
# make bench compares with.
BUILD_DEBS	 = make gcc pkg-config libbearssl-dev libmicrohttpd-dev \
		   libinih-dev libseccomp-dev zlib1g-dev libjansson-dev \
		   libgmime-3.0-dev libldns-dev ca-certificates
TEST_DEBS	 = clang libclang-rt-dev libcmocka-dev mandoc openssl curl \
		   python3 iproute2 dnsmasq-base postfix-mta-sts-resolver nodejs \
		   systemd man-db pebble lego certbot python3-aiosmtpd valgrind \
		   procps procmail maildrop chromium time bind9 bind9-utils \
		   bind9-dnsutils nginx prometheus git strace
BENCH_DEBS	 = nginx wrk python3 python3-cryptography libssl-dev openssl \
		   curl procps

# The sources, by program.  server/lib/ is shared by both programs, the
# tests and the fuzzers; server/tls/ is the only folder that includes
# BearSSL; server/ctl/ is mta-stsctl; server/ itself is mta-stsd.
S		 = server
T		 = tests
LIB_OBJS	 = $(S)/lib/addr.o $(S)/lib/config.o $(S)/lib/der.o \
		   $(S)/lib/file.o $(S)/lib/ids.o $(S)/lib/log.o $(S)/lib/map.o \
		   $(S)/lib/pem.o $(S)/lib/policy.o $(S)/lib/tlsrpt.o \
		   $(S)/lib/tsig.o $(S)/lib/txt.o
# Certificates and credentials: both programs.
TLS_OBJS	 = $(S)/tls/init.o $(S)/tls/cred.o $(S)/tls/scan.o \
		   $(S)/tls/pubkey.o $(S)/tls/names.o $(S)/tls/error.o $(S)/tls/sha2ni.o \
		   $(S)/tls/digest.o
TLS_SERVER_OBJS	 = $(S)/tls/conn.o $(S)/tls/hello.o $(S)/tls/cache.o
TLS_CLIENT_OBJS	 = $(S)/tls/client.o $(S)/tls/anchors.o
DAEMON_OBJS	 = $(S)/main.o $(S)/server.o $(S)/conn.o $(S)/receiver.o \
		   $(S)/watch.o $(S)/notify.o $(S)/http.o $(S)/store.o \
		   $(S)/sandbox.o $(S)/certdirs.o $(S)/loader.o \
		   $(S)/metrics.o $(TLS_SERVER_OBJS) $(TLS_OBJS) $(LIB_OBJS)
DAEMON_LIBS	 = -lbearssl -lmicrohttpd -linih -lseccomp -ljansson -lz \
		   -pthread
CTL_OBJS	 = $(S)/ctl/main.o $(S)/ctl/cli.o $(S)/ctl/records.o \
		   $(S)/ctl/local.o $(S)/ctl/life.o $(S)/ctl/status.o \
		   $(S)/ctl/check.o $(S)/ctl/dns.o $(S)/ctl/smtp.o \
		   $(S)/ctl/edit.o $(S)/ctl/reports.o $(S)/ctl/summary.o \
		   $(S)/ctl/html.o $(S)/ctl/mail.o $(S)/ctl/acme.o \
		   $(S)/ctl/cert.o $(S)/ctl/update.o $(S)/ctl/auth.o \
		   $(S)/ctl/hook.o $(S)/ctl/publish.o $(S)/ctl/replica.o \
		   $(S)/ctl/mx.o $(S)/ctl/adopt.o $(S)/lib/resp.o \
		   $(TLS_CLIENT_OBJS) $(TLS_OBJS) $(LIB_OBJS)
# GMime (MIME, for reports by mail) is only for ctl/mail.c.
GMIME_CFLAGS	:= $(shell pkg-config --cflags gmime-3.0 2>/dev/null)
GMIME_LIBS	:= $(shell pkg-config --libs gmime-3.0 2>/dev/null || \
		   echo -lgmime-3.0)
CTL_LIBS	 = -lbearssl -linih -lldns -ljansson -lz $(GMIME_LIBS)
PROGS		 = $(S)/mta-stsd $(S)/mta-stsctl
HEADERS		 = $(wildcard $(S)/*.h $(S)/*/*.h)

# Unit tests (cmocka) and what each links.
CORE_OBJS	 = $(S)/lib/policy.o $(S)/lib/txt.o $(S)/lib/file.o \
		   $(S)/lib/pem.o
UNIT_TESTS	 = $(T)/unit/test_policy $(T)/unit/test_txt $(T)/unit/test_pem \
		   $(T)/unit/test_sandbox $(T)/unit/test_sha2ni \
		   $(T)/unit/test_acme
# test_acme: what the ACME server answered, from mta-stsctl's acme.c.
ACME_TEST_OBJS	 = $(S)/ctl/acme.o $(S)/lib/config.o $(S)/lib/addr.o \
		   $(S)/lib/file.o $(S)/lib/log.o $(S)/lib/policy.o
# The sanitizer pass leaves out the sandbox test: seccomp is off there.
SAN_UNIT_TESTS	 = $(SAN)/test_policy $(SAN)/test_txt $(SAN)/test_pem \
		   $(SAN)/test_sha2ni $(SAN)/test_acme

# Fuzzers: every source they use compiled once into an archive, from
# which each target takes what it calls.
FUZZERS		 = $(patsubst %.c,%,$(wildcard $(T)/fuzz/fuzz_*.c))
FUZZ_OBJ	 = $(T)/fuzz/obj
FUZZ_SRCS	 = $(wildcard $(S)/lib/*.c) $(wildcard $(S)/tls/*.c) \
		   $(S)/http.c $(S)/ctl/dns.c $(S)/ctl/smtp.c $(S)/ctl/edit.c \
		   $(S)/ctl/acme.c $(S)/ctl/mail.c
FUZZ_OBJS	 = $(patsubst $(S)/%.c,$(FUZZ_OBJ)/%.o,$(FUZZ_SRCS))
FUZZ_LIBS	 = -lbearssl -lmicrohttpd -linih -lldns -ljansson -lz \
		   $(GMIME_LIBS)
FUZZ_CC		 = clang
FUZZ_CFLAGS	 = -std=c17 -D_GNU_SOURCE -I$(S) -g -O1 \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS	?= 60

# The same programs built with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer, for make test's second pass.
SAN_CC		 = clang
SAN_CFLAGS	 = -std=c17 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -I$(S) \
		   $(WARNINGS) -g -O1 -fno-omit-frame-pointer \
		   -fsanitize=address,undefined -fno-sanitize-recover=all
SAN		 = $(S)/san
SAN_PROGS	 = $(SAN)/mta-stsd $(SAN)/mta-stsctl
FUZZ_SMOKE	?= 3

# make bench: the in-memory BearSSL handshake and the wrk client shim.
B		 = $(T)/bench
BENCH_PROGS	 = $(B)/handshake $(B)/wrkshim.so

# make install: PREFIX and DESTDIR as usual; the configuration goes to
# SYSCONFDIR (/etc), the unit to UNITDIR.
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
SHAREDIR	?= $(PREFIX)/share/mta-stsd
UNITDIR		?= $(PREFIX)/lib/systemd/system
INSTALL		?= install

DEV		 = certs/dev
RUN_PORT	?= 8443

.PHONY: all deps test-deps bench-deps certs run test check bench mutate \
	install uninstall fuzz clean

all: $(PROGS)

# Installs what is missing with apt-get when root; otherwise says how.
# Server packages the tests run (bind9, nginx) are not started on this
# host as they are installed (policy-rc.d): the tests start their own.
deps:
	@$(MAKE) --no-print-directory install-debs \
	    DEBS="$(BUILD_DEBS) $(TEST_DEBS)"

# make bench needs nginx and wrk to compare with.
bench-deps:
	@$(MAKE) --no-print-directory install-debs \
	    DEBS="$(BUILD_DEBS) $(BENCH_DEBS)"

.PHONY: install-debs
install-debs:
	@missing=; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing$$missing"; \
			rcd=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
				printf '#!/bin/sh\nexit 101\n' \
				    >/usr/sbin/policy-rc.d && \
				chmod 0755 /usr/sbin/policy-rc.d && rcd=1; \
			fi; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    --no-install-recommends $$missing; rc=$$?; \
			[ -z "$$rcd" ] || rm -f /usr/sbin/policy-rc.d; \
			exit $$rc; \
		else \
			echo "deps: missing packages; run:"; \
			echo "  sudo apt-get install$$missing"; exit 1; \
		fi; \
	fi

$(S)/%.o: $(S)/%.c $(HEADERS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(S)/ctl/mail.o: ALL_CFLAGS += $(GMIME_CFLAGS)
$(SAN)/ctl/mail.o: SAN_CFLAGS += $(GMIME_CFLAGS)
$(FUZZ_OBJ)/ctl/mail.o: FUZZ_CFLAGS += $(GMIME_CFLAGS)

$(S)/mta-stsd: $(DAEMON_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(DAEMON_LIBS)

$(S)/mta-stsctl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJS) $(CTL_LIBS)

$(SAN)/%.o: $(S)/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -c -o $@ $<

$(SAN)/mta-stsd: $(DAEMON_OBJS:$(S)/%=$(SAN)/%)
	$(SAN_CC) -fsanitize=address,undefined -o $@ $^ $(DAEMON_LIBS)

$(SAN)/mta-stsctl: $(CTL_OBJS:$(S)/%=$(SAN)/%)
	$(SAN_CC) -fsanitize=address,undefined -o $@ $^ $(CTL_LIBS)

$(SAN)/test_sha2ni: $(T)/unit/test_sha2ni.c $(SAN)/tls/sha2ni.o
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=address,undefined -o $@ $^ \
	    -lbearssl -lcmocka

$(SAN)/test_acme: $(T)/unit/test_acme.c $(ACME_TEST_OBJS:$(S)/%=$(SAN)/%)
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=address,undefined -o $@ $^ \
	    -linih -lcmocka

$(SAN)/test_%: $(T)/unit/test_%.c $(CORE_OBJS:$(S)/%=$(SAN)/%)
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=address,undefined -o $@ $^ \
	    -lcmocka

$(T)/unit/test_sandbox: $(T)/unit/test_sandbox.c $(S)/sandbox.o \
    $(S)/certdirs.o $(S)/lib/log.o
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ -lseccomp -lcmocka \
	    -pthread

$(T)/unit/test_sha2ni: $(T)/unit/test_sha2ni.c $(S)/tls/sha2ni.o
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ -lbearssl -lcmocka

$(T)/unit/test_acme: $(T)/unit/test_acme.c $(ACME_TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ -linih -lcmocka

$(T)/unit/test_%: $(T)/unit/test_%.c $(CORE_OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

$(FUZZ_OBJ)/%.o: $(S)/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_OBJ)/fuzz.a: $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJS)

$(T)/fuzz/fuzz_%: $(T)/fuzz/fuzz_%.c $(FUZZ_OBJ)/fuzz.a $(HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJ)/fuzz.a $(FUZZ_LIBS)

$(B)/handshake: $(B)/handshake.c
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -lbearssl

# A shared object: no -pie, no -fPIE.
$(B)/wrkshim.so: $(B)/wrkshim.c
	$(CC) -std=c17 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -shared -fPIC \
	    -o $@ $< -ldl -lssl

# A development CA and certificates for the example domains: ECDSA and RSA
# for example.com, one ECDSA P-384 certificate for example.org and .net.
certs: $(DEV)/ca.pem $(DEV)/example.com-ec.pem $(DEV)/example.com-rsa.pem \
	$(DEV)/org-net.pem

$(DEV)/ca.pem: certs/mkcert.sh
	@sh certs/mkcert.sh $(DEV) ca

$(DEV)/example.com-ec.pem: $(DEV)/ca.pem
	@sh certs/mkcert.sh $(DEV) cert example.com-ec ec256 90 \
	    mta-sts.example.com

$(DEV)/example.com-rsa.pem: $(DEV)/ca.pem
	@sh certs/mkcert.sh $(DEV) cert example.com-rsa rsa2048 90 \
	    mta-sts.example.com

$(DEV)/org-net.pem: $(DEV)/ca.pem
	@sh certs/mkcert.sh $(DEV) cert org-net ec384 90 \
	    mta-sts.example.org mta-sts.example.net

# Serves policies/ on 127.0.0.1 and ::1, port RUN_PORT, in the foreground.
run: deps all certs
	@printf '[server]\nlisten = 127.0.0.1:$(RUN_PORT) [::1]:$(RUN_PORT)\npolicy_dir = %s\ncert_dir = %s\nuser = nobody\nlog_level = info\ndefault_domain = example.com\n' \
	    "$(CURDIR)/policies" "$(CURDIR)/$(DEV)" >$(DEV)/mta-stsd.conf
	@if [ "$$(id -u)" = 0 ]; then chgrp -R nogroup $(DEV) && \
	    chmod 0750 $(DEV) && chmod 0640 $(DEV)/*; fi
	@echo "run: serving policies/ on https://127.0.0.1:$(RUN_PORT); try:"
	@echo "  curl --cacert $(DEV)/ca.pem --resolve mta-sts.example.com:$(RUN_PORT):127.0.0.1 https://mta-sts.example.com:$(RUN_PORT)/.well-known/mta-sts.txt"
	@echo "run: Ctrl-C stops it"
	@exec $(S)/mta-stsd -d -f $(DEV)/mta-stsd.conf

test: deps
	@$(MAKE) --no-print-directory all certs $(UNIT_TESTS) $(FUZZERS) \
	    $(SAN_PROGS) $(SAN_UNIT_TESTS)
	@FUZZ_SMOKE=$(FUZZ_SMOKE) sh $(T)/run.sh

# What the suites run (make mutate builds these in its copy).
.PHONY: progs-test progs-san
progs-test: all certs $(UNIT_TESTS)
progs-san: $(SAN_PROGS) $(SAN_UNIT_TESTS)

# Not part of test: each planted bug must be caught by its suite.
mutate: deps
	@sh $(T)/mutate/mutate.sh $(MUTATIONS)

# The suites that need neither root nor network namespaces: a minute.
check: all certs $(UNIT_TESTS)
	@sh $(T)/run.sh unit golden cli man

# Not part of test: minutes long, and its verdicts depend on the machine.
bench: bench-deps
	@$(MAKE) --no-print-directory all certs $(BENCH_PROGS)
	@bash $(B)/bench.sh

fuzz: deps
	@$(MAKE) --no-print-directory all $(FUZZERS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh $(T)/fuzz/fuzz.sh

# Binaries, man pages, the units (the server; the daily certificate
# renewal and the reports check, their timers not enabled), and (only if
# none is there yet) the
# example configuration and its directories.  The mta-stsd account is the
# administrator's to create: see README.md, "Host your policy yourself".
install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/mta-stsd/policies \
	    $(DESTDIR)$(SYSCONFDIR)/mta-stsd/certs
	$(INSTALL) -m 0755 $(S)/mta-stsd $(S)/mta-stsctl $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0644 $(S)/mta-stsd.8 $(S)/ctl/mta-stsctl.8 \
	    $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 $(S)/mta-stsd.conf.5 $(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -d $(DESTDIR)$(SHAREDIR)
	$(INSTALL) -m 0644 $(S)/mta-stsd.rules.yml $(DESTDIR)$(SHAREDIR)
	for u in mta-stsd mta-stsctl-renew mta-stsctl-reports; do \
		sed 's|@SBINDIR@|$(SBINDIR)|; s|@SYSCONFDIR@|$(SYSCONFDIR)|' \
		    systemd/$$u.service.in >$(DESTDIR)$(UNITDIR)/$$u.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	$(INSTALL) -m 0644 systemd/mta-stsctl-renew.timer \
	    systemd/mta-stsctl-reports.timer $(DESTDIR)$(UNITDIR)
	[ -e $(DESTDIR)$(SYSCONFDIR)/mta-stsd/mta-stsd.conf ] || \
	    $(INSTALL) -m 0644 $(S)/mta-stsd.conf \
	    $(DESTDIR)$(SYSCONFDIR)/mta-stsd/mta-stsd.conf

# The configuration, policies and certificates stay, as Debian's remove
# leaves them; delete /etc/mta-stsd by hand to purge.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mta-stsd $(DESTDIR)$(SBINDIR)/mta-stsctl \
	    $(DESTDIR)$(MANDIR)/man8/mta-stsd.8 \
	    $(DESTDIR)$(MANDIR)/man8/mta-stsctl.8 \
	    $(DESTDIR)$(MANDIR)/man5/mta-stsd.conf.5 \
	    $(DESTDIR)$(UNITDIR)/mta-stsd.service \
	    $(DESTDIR)$(UNITDIR)/mta-stsctl-renew.service \
	    $(DESTDIR)$(UNITDIR)/mta-stsctl-renew.timer \
	    $(DESTDIR)$(UNITDIR)/mta-stsctl-reports.service \
	    $(DESTDIR)$(UNITDIR)/mta-stsctl-reports.timer \
	    $(DESTDIR)$(SHAREDIR)/mta-stsd.rules.yml
	-rmdir $(DESTDIR)$(SHAREDIR) 2>/dev/null

clean:
	rm -f $(S)/*.o $(S)/*/*.o $(PROGS) $(UNIT_TESTS) $(FUZZERS)
	rm -rf $(SAN) $(FUZZ_OBJ)
	rm -rf $(T)/fuzz/work
	rm -f $(BENCH_PROGS)
