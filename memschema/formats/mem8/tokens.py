"""The seed's TokenMap (MEM8.md 1.4): in memory only, never serialised (`token_id` is always 0)."""

from __future__ import annotations

RESERVED = {
    0x80: "node_modules", 0x81: ".git", 0x82: "target", 0x83: "dist", 0x84: "build",
    0x90: ".rs", 0x91: ".py", 0x92: ".js", 0x93: ".ts",
    0xFFFE: "Claude", 0xFFFF: "Hue",
}
FIRST_DYNAMIC = 0x100


class TokenMap:
    """String <-> u16 token ids: the reserved tokens, then dynamic ids from 0x100 upwards.

    Unlike upstream (which would overflow a u16 and let dynamic ids collide with 0xFFFE/0xFFFF),
    running out of ids raises OverflowError."""

    def __init__(self) -> None:
        self.reserved = dict(RESERVED)
        self._to_token = {s: t for t, s in RESERVED.items()}
        self._to_str = dict(RESERVED)
        self.next_id = FIRST_DYNAMIC

    def get_token(self, s: str) -> int:
        if s in self._to_token:
            return self._to_token[s]
        while self.next_id in self._to_str:
            self.next_id += 1
        if self.next_id > 0xFFFF:
            raise OverflowError("TokenMap: all 65536 token ids are in use")
        token = self.next_id
        self.next_id += 1
        self._to_token[s] = token
        self._to_str[token] = s
        return token

    def decode_token(self, token: int) -> str | None:
        return self._to_str.get(token)

    def __len__(self) -> int:
        return len(self._to_str)
