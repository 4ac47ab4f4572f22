"""Attribution: DHCP leases (ISC dhcpd, Kea CSV, dnsmasq) and MDM-reported addresses, by time."""

from __future__ import annotations

from datetime import UTC, datetime

from interdit.model import Device, Management, Ownership, Platform
from interdit.network.attribute import Attributor, parse_leases

ISC = """# The format of this file is documented in the dhcpd.leases(5) manual page.
lease 10.0.0.10 {
  starts 3 2023/03/01 08:00:00;
  ends 3 2023/03/01 12:00:00;
  binding state active;
  hardware ethernet AA:BB:CC:00:00:01;
  client-hostname "phone-1";
}
lease 10.0.0.10 {
  starts 3 2023/03/01 12:00:00;
  ends never;
  hardware ethernet aa:bb:cc:00:00:02;
}
lease 10.0.0.11 {
  starts 3 2023/03/01 nonsense;
  ends 3 2023/03/01 12:00:00;
}
"""
KEA = """address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id
10.0.1.5,aa:bb:cc:00:00:03,,3600,1677672000,1,0,0,laptop,0,,0
10.0.1.6,oops,,x,y,1,0,0,,0,,0
"""
DNSMASQ = "1677700000 aa:bb:cc:00:00:04 10.0.2.7 tablet 01:aa:bb:cc:00:00:04\nnot a lease\n"


def ts(hour: int, minute: int = 0) -> float:
    return datetime(2023, 3, 1, hour, minute, tzinfo=UTC).timestamp()


def device(did: str, addresses: tuple[str, ...], name: str | None = None) -> Device:
    return Device("intune", did, Platform.IOS, Ownership.CORPORATE, Management.FULLY_MANAGED,
                  datetime(2023, 3, 1, 9, tzinfo=UTC), name=name, addresses=addresses)


def test_isc_leases_by_time_and_bad_blocks_rejected() -> None:
    lf = parse_leases(ISC, "dhcpd.leases")
    assert lf.format == "isc-dhcpd" and lf.read == 3 and len(lf.leases) == 2
    assert lf.rejections[0].place == "dhcpd.leases:14"
    a = Attributor(lf.leases, [device("D1", ("aa:bb:cc:00:00:01",))])
    assert a.device("10.0.0.10", ts(9)) == ("intune", "D1")  # MAC known to the MDM
    assert a.device("10.0.0.10", ts(13)) == ("dhcp", "aa:bb:cc:00:00:02")  # the next lease, unknown MAC
    assert a.device("10.0.0.10", ts(7)) is None  # before any lease
    assert a.device("10.9.9.9", ts(9)) is None


def test_kea_and_dnsmasq_leases() -> None:
    kea = parse_leases(KEA, "kea-leases4.csv")
    assert kea.format == "kea-csv" and len(kea.leases) == 1 and len(kea.rejections) == 1
    a = Attributor(kea.leases, [device("L1", (), name="LAPTOP")])
    assert a.device("10.0.1.5", 1677672000 - 10) == ("intune", "L1")  # by hostname
    assert a.device("10.0.1.5", 1677672000 + 10) is None  # expired
    dm = parse_leases(DNSMASQ, "dnsmasq.leases")
    assert dm.format == "dnsmasq" and len(dm.leases) == 1 and dm.rejections[0].place == "dnsmasq.leases:2"


def test_mdm_reported_addresses_count_for_a_day_either_side() -> None:
    a = Attributor((), [device("D9", ("10.5.5.5",))])
    assert a.device("10.5.5.5", ts(20)) == ("intune", "D9")
    assert a.device("10.5.5.5", ts(9) + 2 * 86400) is None
