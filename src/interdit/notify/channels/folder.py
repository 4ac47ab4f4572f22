"""A folder: each notice written as an e-mail file (`.eml`) any mail program opens, instead of being sent.

    - type: folder
      path: notices-out          # created when missing; relative to the settings file's folder
      sender: "IT Security <securite@example.org>"   # optional

For a trial run, a demonstration, or an organisation whose own mail system picks the files up. Each file is
named after the notice's key (`F-0123456789abcdef.first.eml`) and written whole (a reader never sees half of it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from interdit.notify.channels import Channel, DeliveryError, channels, option
from interdit.notify.channels.email import email_message
from interdit.notify.config import ChannelConfig
from interdit.notify.plan import Notice
from interdit.notify.render import Message


@channels.register("folder")
class FolderChannel(Channel):
    def __init__(self, config: ChannelConfig, path: Path, sender: str) -> None:
        super().__init__(config)
        self.path, self.sender = path, sender

    @classmethod
    def from_config(cls, config: ChannelConfig, environ: Mapping[str, str]) -> FolderChannel:
        path = Path(str(option(config, environ, "path")))
        sender = str(option(config, environ, "sender", required=False, default="interdit <interdit@localhost>"))
        return cls(config, path if path.is_absolute() else config.base / path, sender)

    def send(self, notice: Notice, message: Message) -> None:
        target = self.path / (notice.key.replace("/", ".") + ".eml")
        tmp = target.with_name("." + target.name + ".writing")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(email_message(notice, message, self.sender).as_bytes())
            os.replace(tmp, target)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise DeliveryError(f"cannot write the notice ({e.strerror or e})", where=str(target),
                                fix="check the folder exists or can be created, and may be written") from None
