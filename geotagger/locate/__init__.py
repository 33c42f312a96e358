"""Geolocation engine: model packs, batch inference, library model, time evidence, fusion."""
