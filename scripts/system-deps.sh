#!/usr/bin/env bash
# Install the Debian packages the test suite starts for real, when they are missing.
# PostgreSQL (a throwaway cluster per test run), BIND 9, Unbound, dnsmasq, PowerDNS Recursor and Knot Resolver
# (generated blocking configs; LuaJIT parses their Lua), Chromium (the dashboard, driven by Playwright), Java
# (PySpark in local mode), ripgrep (the network benchmark), dexdump (exodus-core's tracker method), Pango (the PDF
# report, drawn by WeasyPrint).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need+=(bind9)
command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] || need+=(unbound)
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
command -v pdns_recursor >/dev/null 2>&1 || [ -x /usr/sbin/pdns_recursor ] || need+=(pdns-recursor)
command -v kresd >/dev/null 2>&1 || [ -x /usr/sbin/kresd ] || need+=(knot-resolver)
command -v named-checkzone >/dev/null 2>&1 || need+=(bind9-utils)  # named-checkzone checks generated RPZ zones
command -v luajit >/dev/null 2>&1 || need+=(luajit)  # parses the generated Lua (the Lua pdns and kresd embed)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)  # the network benchmark compares with it
command -v dexdump >/dev/null 2>&1 || need+=(dexdump)  # exodus-core's tracker method, run by the corpus tests
[ -x /usr/bin/chromium ] || need+=(chromium)  # the dashboard tests drive it with Playwright
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)  # the PySpark job is tested in local mode
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)  # WeasyPrint (PDF)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]}; install them (apt-get install ${need[*]}) and re-run." >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian starts the services it installs (pdns-recursor and kresd would take 127.0.0.1:53); the tests start
# their own on free ports. A policy-rc.d that answers 101 stops the packages from starting any service while
# they install; one already in place is left as it is.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# ... and enables them for the next boot.
for s in named bind9 unbound dnsmasq postgresql pdns-recursor kresd@1 kresd.target kres-cache-gc; do
  $SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true
done
if [ -x /etc/init.d/kresd ]; then $SUDO update-rc.d kresd disable >/dev/null 2>&1 || true; fi
