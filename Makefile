# Thin wrapper so SquTUN's `make`, `make test` and `make install` work from the source
# directory. CMake does the building; see README.md.
#
#   make                      build $(BUILD)/squtun
#   make test                 unit and end-to-end tests (the end-to-end ones need root)
#   make install              as root: $(PREFIX)/sbin/squtun, the man page, the tmpfiles.d
#                             entry, group tun, $(RUNDIR) (root:tun, mode 01775)
#   make uninstall            removes what install added (see there what stays)
#   make deb                  $(DEBDIR)/squtun_VERSION-1_ARCH.deb (CPack; prefix /usr)
#   make clean
#
# Variables: BUILD (build directory, default build), PREFIX (default /usr/local), DESTDIR
# (staging root for install/uninstall), DEBDIR (where the .deb goes, default $(BUILD)),
# BUILD_TYPE, JOBS, INSTALL_DIR_RECORD (see install). PREFIX is applied at install time, so it
# need not match the configure.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
DESTDIR ?=
JOBS ?= 2
RUNDIR ?= /var/run/squtun
DEBDIR ?= $(BUILD)
# Also set in CMakeLists.txt (SQUTUN_TMPFILESDIR); the entry names /run/squtun, which is
# /var/run/squtun on Debian (/var/run is a symbolic link to /run).
TMPFILESDIR = /usr/lib/tmpfiles.d
MANDIR = $(PREFIX)/share/man/man8
UNITDIR = $(PREFIX)/lib/systemd/system
# The directories install puts something in, and the record of those it had to make.
INSTALL_DIRS = $(addprefix $(DESTDIR),$(PREFIX)/sbin $(MANDIR) $(UNITDIR) $(TMPFILESDIR) $(RUNDIR))
INSTALL_DIR_RECORD ?= $(BUILD)/install_dirs.txt

.PHONY: all test install uninstall deb clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

test: all
	ctest --test-dir $(BUILD) --output-on-failure

# As SquTUN's README: the binary in $(PREFIX)/sbin, and $(RUNDIR) owned by root:tun with mode
# 01775 so members of group tun can write their pid files there (and remove only their own).
# The tmpfiles.d entry makes the directory again at boot (/run is a tmpfs).
# With DESTDIR (a staging tree, e.g. for a package), no group is created and the directory
# is made with its mode; it gets group tun only if that group exists here.
# The directories it creates (e.g. /usr/local/share/man/man8 on a fresh machine) are noted in
# $(INSTALL_DIR_RECORD), so that uninstall removes those and only those.
install: all
	sh scripts/install_dirs.sh note $(INSTALL_DIR_RECORD) $(INSTALL_DIRS)
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix $(PREFIX)
ifeq ($(strip $(DESTDIR)),)
	getent group tun >/dev/null || groupadd --system tun
	install -d -m 01775 -o root -g tun $(RUNDIR)
else
	install -d -m 01775 $(DESTDIR)$(RUNDIR)
	if [ "$$(id -u)" = 0 ] && getent group tun >/dev/null; then chown root:tun $(DESTDIR)$(RUNDIR); fi
endif

# Removes the binary, the man page, the tmpfiles.d entry and the unit, then the directories
# install made (as $(INSTALL_DIR_RECORD) says) if they are empty: e.g. $(RUNDIR), unless a
# running daemon's pid file keeps it (it then vanishes at the next boot, as the entry is gone).
# A directory that was there before install stays, and so does every one after `make clean`.
# Group tun is left on purpose: users were added to it and /dev/net/tun may belong to it;
# remove it by hand with `groupdel tun` once nothing uses it.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/squtun $(DESTDIR)$(MANDIR)/squtun.8 \
		$(DESTDIR)$(TMPFILESDIR)/squtun.conf $(DESTDIR)$(UNITDIR)/squtun@.service
	sh scripts/install_dirs.sh remove $(INSTALL_DIR_RECORD) $(INSTALL_DIRS)

# A Debian package from $(BUILD): /usr/sbin/squtun, the gzipped man page, the tmpfiles.d
# entry, the systemd unit (if packaging/systemd/ has squtun@.service[.in]) and maintainer
# scripts (packaging/debian/). Install it with `apt-get install ./squtun_*.deb`.
deb: all
	cpack --config $(BUILD)/CPackConfig.cmake -G DEB -B $(abspath $(DEBDIR))
	@ls -1 $(abspath $(DEBDIR))/squtun_*.deb

clean:
	rm -rf $(BUILD)
