"""PEP 600 override, installed into the bundle's build environment only: pip may pick wheels for
glibc 2.28 and older, never the manylinux_2_34 builds this machine could run, so that what is
bundled runs on 统信 UOS 20 (glibc 2.28)."""


def manylinux_compatible(tag_major: int, tag_minor: int, tag_arch: str) -> bool:
    return tag_major < 2 or (tag_major == 2 and tag_minor <= 28)
