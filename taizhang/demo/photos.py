"""Small field photos for the demo, drawn in memory and uploaded through the attachments layer."""

from __future__ import annotations

import io
import random
from datetime import datetime

from django.utils import timezone
from PIL import Image, ImageDraw

from taizhang.cases.attachments import do_upload_attachment
from taizhang.org.models import User

SIZE = (240, 180)
# Before: dim, cluttered, with a red warning mark; after: lighter and tidy, with a green tick.
PALETTES = {
    "before": ((92, 84, 76), (150, 120, 90), (200, 40, 40)),
    "after": ((170, 180, 175), (120, 150, 130), (40, 160, 70)),
}


def draw_photo(rng: random.Random, kind: str, at: datetime) -> bytes:
    """A JPEG of a few kilobytes: a scene of boxes, a mark, and the time stamp a field camera prints."""
    ground, things, mark = PALETTES[kind]
    img = Image.new("RGB", SIZE, tuple(max(0, min(255, c + rng.randint(-15, 15))) for c in ground))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 120, SIZE[0], SIZE[1]), fill=tuple(c // 2 + 40 for c in ground))
    for _ in range(rng.randint(3, 9) if kind == "before" else rng.randint(1, 3)):
        x, y = rng.randint(0, 200), rng.randint(60, 140)
        w, h = rng.randint(15, 60), rng.randint(15, 50)
        shade = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in things)
        draw.rectangle((x, y, x + w, y + h), fill=shade, outline=(40, 40, 40))
    cx, cy = rng.randint(40, 200), rng.randint(30, 90)
    if kind == "before":
        draw.ellipse((cx - 18, cy - 18, cx + 18, cy + 18), outline=mark, width=4)
    else:
        draw.line((cx - 14, cy, cx - 4, cy + 10, cx + 16, cy - 12), fill=mark, width=5)
    stamp = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    draw.rectangle((0, SIZE[1] - 16, SIZE[0], SIZE[1]), fill=(0, 0, 0))
    draw.text((6, SIZE[1] - 14), stamp, fill=(255, 210, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def upload_photos(user: User, rng: random.Random, kind: str, at: datetime, count: int = 1) -> list[int]:
    """Upload `count` photos as `user`; returns attachment ids for a creation or transition."""
    ids = []
    for i in range(count):
        data = draw_photo(rng, kind, at)
        name = f"{'整改前' if kind == 'before' else '整改后'}{i + 1}.jpg"
        ids.append(do_upload_attachment(user, name, io.BytesIO(data), len(data)).pk)
    return ids
