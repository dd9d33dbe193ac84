# Writes GzipFixtures.swift (python3 Tests/UnitTests/make_gzip_fixtures.py > Tests/UnitTests/GzipFixtures.swift):
# gzip streams written by CPython's gzip and zlib modules, and a few crafted by hand to break one rule each.
import base64, gzip, struct, zlib

def content(n):
    words = ["pop", "rock", "indie", "jazz", "metal", "folk", "soul", "house", "techno", "ambient"]
    return "".join(f'{{"Item":{{"email":{{"S":"user{i}@example.com"}},"n":{{"N":"{(i*7919)%10007}"}},'
                   f'"g":{{"S":"{words[(i*31)%10]}"}}}}}}\n' for i in range(n)).encode()

def gz(data, level):
    return gzip.compress(data, compresslevel=level, mtime=0)

def raw_deflate(data, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()

def trailer(data):
    return struct.pack("<II", zlib.crc32(data) & 0xffffffff, len(data) & 0xffffffff)

def all_header_fields(data):
    head = bytes([0x1f, 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02]) + struct.pack("<I", 1700000000) + bytes([0, 3])
    head += struct.pack("<H", 6) + b"AB\x02\x00xy" + b"export.json\x00" + b"a comment\x00"
    head += struct.pack("<H", zlib.crc32(head) & 0xffff)
    return head + raw_deflate(data) + trailer(data)

class Bits:
    def __init__(self):
        self.bits = []
    def write(self, value, count):  # least significant first (header fields, extra bits)
        self.bits += [(value >> i) & 1 for i in range(count)]
    def code(self, value, count):  # Huffman codes, most significant first
        self.bits += [(value >> (count - 1 - i)) & 1 for i in range(count)]
    def bytes(self):
        padded = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(sum(b << i for i, b in enumerate(padded[k:k + 8])) for k in range(0, len(padded), 8))

def member(deflate, data):
    return bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]) + deflate + trailer(data)

def distance_too_far():
    b = Bits()
    b.write(1, 1); b.write(1, 2)          # final, fixed codes
    b.code(0b0000001, 7)                  # length symbol 257: 3 bytes
    b.code(0, 5)                          # distance symbol 0: 1 byte back, before any output
    b.code(0, 7)                          # end of block
    return member(b.bytes(), b"")

def block_type_3():
    b = Bits(); b.write(1, 1); b.write(3, 2)
    return member(b.bytes(), b"")

def stored_bad_complement():
    return member(bytes([1]) + struct.pack("<HH", 5, 5) + b"hello", b"hello")

big = content(3000)
small = content(300)
fixtures = {
    "hello9": gz(b"hello, hello, hello world\n", 9),
    "empty": gz(b"", 6),
    "small1": gz(small, 1),
    "small9": gz(small, 9),
    "stored": gz(content(40), 0),
    "big6": gz(big, 6),
    "twoMembers": gz(b"first member\n", 6) + gz(b"second member\n", 1),
    "allHeaderFields": all_header_fields(small),
    "distanceTooFar": distance_too_far(),
    "blockType3": block_type_3(),
    "storedBadComplement": stored_bad_complement(),
}
out = ["// Written by make_gzip_fixtures.py: gzip streams written by CPython's",
       "// gzip and zlib modules (and a few crafted by hand to break one rule each).", "",
       "enum GzipFixtures {"]
for name, data in fixtures.items():
    text = base64.b64encode(data).decode()
    lines = [text[i:i + 112] for i in range(0, len(text), 112)] or [""]
    out.append(f"    static let {name} = \"\"\"")
    out += ["        " + line for line in lines]
    out.append("        \"\"\"")
out.append("}")
print("\n".join(out))
