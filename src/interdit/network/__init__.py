"""DNS, proxy and TLS logs: which devices asked for a prohibited app's domains. What a log-format plugin uses:

    @readers.register("my-log")            one module per format (built-in or through the `interdit.plugins`
    class MyLog(LineReader): ...           entry point, named `network.<format>`); see docs/guides/add-a-log-format.md
    Event, LineError, FileContext          what `parse` returns or raises, what a reader knows of its file
    TabularReader                          the declaration that gives tab-separated logs the scanner's fast path
    epoch, iso, syslog_time, month_number, client_address, split_host_port, json_object, text   helpers

The scanner (`interdit.network.scan.scan_file`) does the rest: decompression, detection, matching,
attribution, aggregation.
"""

from interdit.network.base import (
    MAX_LINE,
    Event,
    FileContext,
    LineError,
    LineReader,
    TabularReader,
    client_address,
    epoch,
    iso,
    json_object,
    month_number,
    readers,
    split_host_port,
    syslog_time,
    text,
)

__all__ = [
    "MAX_LINE",
    "Event",
    "FileContext",
    "LineError",
    "LineReader",
    "TabularReader",
    "client_address",
    "epoch",
    "iso",
    "json_object",
    "month_number",
    "readers",
    "split_host_port",
    "syslog_time",
    "text",
]
