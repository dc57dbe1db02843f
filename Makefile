# mta-stsd: build, test, run.  A plain Makefile: GNU make, Debian.
#
#   make          build mta-stsd and mta-stsctl (installs missing packages)
#   make test     every test: unit, golden, CLI, fuzz smoke
#   make fuzz     run each fuzzer FUZZ_SECONDS (default 60)

CC		?= cc
CFLAGS		?= -O2 -g
VERSION		 = 0.1

WARNINGS	 = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes
HARDENING	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDENING	 = -pie -Wl,-z,relro -Wl,-z,now
ALL_CFLAGS	 = -std=c17 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(WARNINGS) \
		   $(HARDENING) $(CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS	 = $(LDHARDENING) $(LDFLAGS)

# Debian packages that the build and the tests need.
DEBS		 = make gcc clang libclang-rt-dev pkg-config libbearssl-dev \
		   libmicrohttpd-dev libinih-dev libcmocka-dev mandoc openssl \
		   curl

S		 = server
T		 = tests
CORE_OBJS	 = $(S)/policy.o $(S)/txt.o $(S)/file.o
CTL_OBJS	 = $(S)/ctl.o $(CORE_OBJS)
PROGS		 = $(S)/mta-stsctl
MANS		 = $(S)/mta-stsctl.8

UNIT_TESTS	 = $(T)/unit/test_policy $(T)/unit/test_txt
FUZZERS		 = $(T)/fuzz/fuzz_policy $(T)/fuzz/fuzz_txt
FUZZ_CC		 = clang
FUZZ_CFLAGS	 = -std=c17 -D_GNU_SOURCE -g -O1 \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS	?= 60
FUZZ_SMOKE	?= 5

.PHONY: all deps test check-unit check-golden check-cli check-man \
	check-fuzz fuzz clean

all: deps
	@$(MAKE) --no-print-directory $(PROGS)

# Installs what is missing with apt-get when root; otherwise says how.
deps:
	@missing=; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing$$missing"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    --no-install-recommends $$missing; \
		else \
			echo "deps: missing packages; run:"; \
			echo "  sudo apt-get install$$missing"; exit 1; \
		fi; \
	fi

$(S)/%.o: $(S)/%.c $(wildcard $(S)/*.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(S)/mta-stsctl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJS)

$(T)/unit/test_%: $(T)/unit/test_%.c $(CORE_OBJS)
	$(CC) $(ALL_CFLAGS) -I$(S) $(ALL_LDFLAGS) -o $@ $< $(CORE_OBJS) \
	    -lcmocka

$(T)/fuzz/fuzz_%: $(T)/fuzz/fuzz_%.c $(S)/*.c $(wildcard $(S)/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(S) -o $@ $< $(S)/policy.c $(S)/txt.c

test: all
	@$(MAKE) --no-print-directory $(PROGS) $(UNIT_TESTS) $(FUZZERS)
	@sh $(T)/run.sh

fuzz: all
	@$(MAKE) --no-print-directory $(FUZZERS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh $(T)/fuzz/run.sh

clean:
	rm -f $(S)/*.o $(PROGS) $(UNIT_TESTS) $(FUZZERS)
	rm -rf $(T)/fuzz/work
