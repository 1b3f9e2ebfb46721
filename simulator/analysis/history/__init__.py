"""The drill history: one row per drill (keyed by its journal's sha256), in SQLite or a shared PostgreSQL.

What a row holds is what the after-action report says, with the journal itself stored beside it, so any
drill can be compared, trended or reopened without its file. The parts:

- :mod:`.rows`: what the history holds about a drill, as plain values (no database);
- :mod:`.database`: where the database is, its schema and migrations, connecting to it;
- :mod:`.store`: an open history (:func:`open_history`): recording, removing, listing, finding drills;
- :mod:`.entries`: a drill's entry from its after-action facts or journal file, recorded as it ends;
- :mod:`.reopening`: a recorded drill (or a journal file) reopened as it was played.

- :mod:`.listing`: ``ttx history``'s table read from a SQLite file without SQLAlchemy.

The names below are the package's public API; import them from here. Those of the parts that use
SQLAlchemy load with it, the first time one is used.
"""

from typing import TYPE_CHECKING

from simulator.analysis.history.reopening import Reopened, reopen, reopen_file
from simulator.analysis.history.rows import (
    MODES,
    PEOPLE,
    SHORT_ID,
    ComponentRow,
    DrillDetail,
    DrillEntry,
    DrillRow,
    FigureRow,
    Filters,
    HistoryError,
    Listed,
    NoHistory,
    Player,
    Recorded,
    iso,
    local,
    sha256,
    since_value,
    utc_now,
)
from simulator.analysis.recording import DB_FILE, default_path

if TYPE_CHECKING:
    from simulator.analysis.history.database import (
        BUSY_TIMEOUT,
        CONNECT_TIMEOUT,
        MIGRATIONS,
        SCHEMA_VERSION,
        Migration,
        components,
        drills,
        explain,
        figures,
        journals,
        metadata,
        migrate,
        references,
        resolve_url,
        schema_table,
        shown,
    )
    from simulator.analysis.history.entries import Remembered, entry_of, played_at, record_journal, remember
    from simulator.analysis.history.store import History, open_history
else:
    def __getattr__(name: str) -> object:
        """The SQLAlchemy parts (:mod:`.database`, :mod:`.store`, :mod:`.entries`) load when one of their
        names is first used, so that ``ttx history`` can list a SQLite file without them (:mod:`.listing`)."""
        import importlib

        if name in __all__:
            for part in ("database", "store", "entries"):
                module = importlib.import_module(f"{__name__}.{part}")
                if name in vars(module):
                    globals()[name] = value = vars(module)[name]
                    return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "BUSY_TIMEOUT", "CONNECT_TIMEOUT", "DB_FILE", "MIGRATIONS", "MODES", "PEOPLE", "SCHEMA_VERSION",
    "SHORT_ID", "ComponentRow", "DrillDetail", "DrillEntry", "DrillRow", "FigureRow", "Filters",
    "History", "HistoryError", "Listed", "Migration", "NoHistory", "Player", "Recorded", "Remembered",
    "Reopened", "components", "default_path", "drills", "entry_of", "explain", "figures", "iso",
    "journals", "local", "metadata", "migrate", "open_history", "played_at", "record_journal",
    "references", "remember", "reopen", "reopen_file", "resolve_url", "schema_table", "sha256", "shown",
    "since_value", "utc_now",
]
