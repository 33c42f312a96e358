"""Placing photos without typing coordinates: drop the grid's selection on the map, copy a photo's
location and paste it on others (Ctrl+Shift+C / Ctrl+Shift+V), place the selection like the current
photo, or at the place found with the search box (Ctrl+Shift+H). Every placement is a decision recorded through DecisionController.place, so it is journaled and
the history undoes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from geotagger.geo.place_search import PlaceHit
from geotagger.gui.browsing import Browser
from geotagger.gui.details import accepted_at
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.mappane import MapPane
from geotagger.gui.qaction import make_action
from geotagger.services.browse import PhotoDetails

# How precise a searched place is as a photo's location: a town's name says "in or near the town".
SEARCH_LEVELS = {"place": "city", "region": "region", "country": "country"}
_PAIR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    level: str  # what the source photo's location is good to ("exact" for its own GPS)
    source: str  # the photo it was copied from

    @property
    def text(self) -> str:
        return f"{self.lat:.6f}, {self.lon:.6f}"


def location_of(details: PhotoDetails) -> Location | None:
    """Where a photo is: its GPS, else its accepted (not undone) location; None when neither."""
    if details.gps_lat is not None and details.gps_lon is not None:
        return Location(details.gps_lat, details.gps_lon, "exact", details.filename)
    accepted = accepted_at(details)
    if accepted is not None:
        newest = next(d for d in details.decisions if not d.get("undone"))
        return Location(accepted[0], accepted[1], newest["level"] or "exact", details.filename)
    return None


def parse_location(text: str) -> tuple[float, float] | None:
    """ "46.59, 7.9" (as copied here or from a map site) -> (lat, lon), None when it is not one."""
    match = _PAIR.match(text or "")
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


class PlacingController:
    """Drop on the map, Copy location, Paste location, Place like this photo."""

    def __init__(
        self,
        owner: QWidget,
        browser: Browser,
        map_pane: MapPane,
        status: StatusFeedback,
        place: Callable[..., None],
    ) -> None:
        self.browser, self.status, self.place = browser, status, place
        self.copied: Location | None = None
        self.act_copy = make_action(
            owner, "Copy location", self.copy, "Ctrl+Shift+C", "Copy the current photo's location"
        )
        self.act_paste = make_action(
            owner,
            "Paste location",
            self.paste,
            "Ctrl+Shift+V",
            "Place the selected photos at the copied location",
        )
        self.act_like = make_action(
            owner,
            "Place like this photo",
            self.place_like,
            "Ctrl+Shift+P",
            "Place the other selected photos where the current photo is",
        )
        self.searched: PlaceHit | None = None
        self.act_here = make_action(
            owner,
            "Place at the searched place",
            self.place_at_searched,
            "Ctrl+Shift+H",
            "Place the selected photos at the place found with the search box",
        )
        map_pane.photos_dropped.connect(self.on_drop)
        browser.changed.connect(self.update)
        self.update()

    def update(self) -> None:
        d = self.browser.current_details
        here = location_of(d) if d is not None else None
        self.act_copy.setEnabled(here is not None)
        self.act_like.setEnabled(here is not None)
        self.act_like.setText(
            f"Place like {d.filename}" if here is not None and d is not None else "Place like this photo"
        )
        self.act_here.setEnabled(self.searched is not None and bool(self.browser.selected_ids()))

    def search_chosen(self, hit: PlaceHit) -> None:
        """The search box found ``hit``: the selection can now be placed there."""
        self.searched = hit
        self.act_here.setText(f"Place at {hit.name}")
        self.update()

    def place_at_searched(self) -> None:
        """The selected photos at the searched place, as precise as the place is (a town: city level)."""
        hit, ids = self.searched, self.browser.selected_ids()
        if hit is None or not ids:
            self.status.show("Search a place and select the photos to place there", 5000)
            return
        level = SEARCH_LEVELS.get(hit.kind, "city")
        self.status.show(f"Placing {len(ids)} photo(s) at {hit.label} ({level})", 4000)
        self.place(ids, hit.lat, hit.lon, level=level)

    def on_drop(self, ids: list[int], lat: float, lon: float) -> None:
        """Photos dropped on the map: an exact placement there."""
        self.status.show(f"Placing {len(ids)} photo(s) at {lat:.5f}, {lon:.5f}", 4000)
        self.place(ids, lat, lon)

    def copy(self) -> None:
        d = self.browser.current_details
        here = location_of(d) if d is not None else None
        if here is None:
            self.status.show("This photo has no location to copy", 4000)
            return
        self.copied = here
        QGuiApplication.clipboard().setText(here.text)
        self.status.show(f"Copied the location of {here.source} ({here.text})", 4000)

    def paste(self) -> None:
        """The copied location on the selected photos (a coordinate pair on the clipboard works too)."""
        ids = self.browser.selected_ids()
        text = QGuiApplication.clipboard().text()
        copied = self.copied
        if copied is not None and text.strip() == copied.text:
            lat, lon, level = copied.lat, copied.lon, copied.level
        else:
            pair = parse_location(text)
            if pair is None:
                self.status.show("Nothing to paste: copy a photo's location first (Ctrl+Shift+C)", 5000)
                return
            (lat, lon), level = pair, "exact"
        if ids:
            self.place(ids, lat, lon, level=level)

    def place_like(self) -> None:
        """The other selected photos go where the current photo is."""
        d = self.browser.current_details
        here = location_of(d) if d is not None else None
        if d is None or here is None:
            return
        targets = [i for i in self.browser.selected_ids() if i != d.id]
        if not targets:
            self.status.show(f"Select the photos to place like {d.filename} too (Ctrl+click)", 5000)
            return
        self.place(targets, here.lat, here.lon, level=here.level)
