"""How a camera is named to people: EXIF Make and Model, without the make twice.

Many makers repeat the make in Model ("Canon" + "Canon EOS 40D", "NIKON CORPORATION" + "NIKON D700"),
so "make model" reads "Canon Canon EOS 40D". The details pane and the clock list use this one rule."""

from __future__ import annotations


def camera_name(make: str | None, model: str | None) -> str:
    """ "Canon EOS 40D" for ("Canon", "Canon EOS 40D"), "Apple iPhone 12" for ("Apple", "iPhone 12")."""
    make, model = (make or "").strip(), (model or "").strip()
    if not make:
        return model
    if not model:
        return make
    first = make.split(" ")[0].lower()  # "NIKON CORPORATION" is named "NIKON" in its models
    if model.lower().startswith(first):
        return model
    return f"{make} {model}"
