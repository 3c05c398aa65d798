# Thin wrapper so the seed's `make`, `make test` and `make install` work from the source
# directory. CMake does the building; see README.md.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
JOBS ?= 2
RUNDIR ?= /var/run/squtun

.PHONY: all test install uninstall clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

test: all
	ctest --test-dir $(BUILD) --output-on-failure

# As the seed: the binary in $(PREFIX)/sbin, and $(RUNDIR) owned by root:tun with mode
# 01775 so members of group tun can write their pid files there.
install: all
	cmake --install $(BUILD) --prefix $(PREFIX)
	getent group tun >/dev/null || groupadd --system tun
	install -d -m 01775 -o root -g tun $(RUNDIR)
	install -D -m 0644 packaging/tmpfiles.d/squtun.conf $(DESTDIR)/usr/lib/tmpfiles.d/squtun.conf

uninstall:
	rm -f $(PREFIX)/sbin/squtun $(PREFIX)/share/man/man8/squtun.8 /usr/lib/tmpfiles.d/squtun.conf
	rmdir $(RUNDIR) 2>/dev/null || true

clean:
	rm -rf $(BUILD)
