# units.mk - installs the systemd units of contrib/systemd (included from the
# Makefile; also usable alone: make -f contrib/systemd/units.mk install-units).
#
#   make install-units [DESTDIR=] [PREFIX=/usr/local] [UNITDIR=...] [UNIT_LIBS=...]
#
# The units name the binary as /usr/local/sbin/hermit and list the libraries
# it needs inside the empty root of hermit.service and hermit-inetd@.service;
# install-units writes $(SBINDIR)/hermit and the libraries `ldd $(BIN)` names
# (or UNIT_LIBS, e.g. when cross-building: UNIT_LIBS= for a static binary).

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
BIN ?= hermit

UNITS = hermit.socket hermit.service hermit-https.socket hermit-https.service \
        hermit-chroot.socket hermit-chroot.service \
        hermit-inetd.socket hermit-inetd@.service hermit-classic.service
UNIT_LIBS ?= $(shell ldd $(BIN) 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($$i ~ /^\//) print $$i }')

install-units: $(BIN)
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed -e 's|/usr/local/sbin/hermit|$(SBINDIR)/hermit|g' \
		    -e '/^BindReadOnlyPaths=\/lib64\/ld-linux-x86-64.so.2 /{' \
		    -e '  s|.*|BindReadOnlyPaths=$(strip $(UNIT_LIBS))|; /=$$/d' \
		    -e '}' contrib/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

.PHONY: install-units
