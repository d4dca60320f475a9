"""A progress bar for long commands (`seed_demo`, `ingest_alerts`)."""

import time

from django.core.management.base import OutputWrapper


class Progress:
    """A progress bar on stderr: `[#####.....]  45% 450,000/1,000,000 alerts 12.3 s`.

    Redrawn in place on a terminal; a line every few seconds otherwise (logs, CI).
    """

    WIDTH = 30
    LOG_INTERVAL = 5.0

    def __init__(self, out: OutputWrapper, total: int, unit: str):
        self.out, self.total, self.unit = out, total, unit
        self.tty = out.isatty()
        self.started = time.monotonic()
        self.logged = 0.0
        self.shown = -1

    def update(self, done: int, *, final: bool = False) -> None:
        elapsed = time.monotonic() - self.started
        if not self.tty and not final and elapsed - self.logged < self.LOG_INTERVAL:
            return
        self.logged, self.shown = elapsed, done
        filled = self.WIDTH * done // max(self.total, 1)
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{100 * done // max(self.total, 1):3d}% {done:,}/{self.total:,} {self.unit} "
            f"{elapsed:.1f} s"
        )
        # `str` keeps the bar out of the error colour the command gives stderr.
        if self.tty:
            self.out.write("\r" + line, ending="\n" if final else "", style_func=str)
        else:
            self.out.write(line, style_func=str)
        self.out.flush()

    def finish(self, done: int) -> None:
        if self.tty or done != self.shown:
            self.update(done, final=True)
