"""The archival copy: a rendered document as PDF/A-3b, optionally carrying the case JSON.

reportlab writes a plain PDF (fonts embedded as subsets, no transparency, no JavaScript). One
incremental update makes it PDF/A-3b: an sRGB output intent (the ICC profile from Pillow's
LittleCMS), XMP metadata with the PDF/A identification (pyHanko writes XMP and the Info
dictionary from one model, so they agree, also after the signature's own update), and the case
JSON as an associated file (``/AF``, ``/AFRelationship /Data``) so one file carries both what the
applicant signed and the data. The original bytes stay a prefix of the result.

:func:`pdfa_problems` checks what can be checked here without a validator (veraPDF is not
available offline): XMP identification, embedded fonts, output intent, no encryption, no
JavaScript or actions, associated files well-formed. It reports in Chinese.

Thread contract: pure functions, any thread.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
from functools import lru_cache

from PIL import ImageCms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model
from pyhanko.pdf_utils.reader import PdfFileReader

from printing.result import PrintingError

_PDFAID_PART = model.ExpandedName(ns=model.NS["pdfaid"], local_name="part")
_PDFAID_CONFORMANCE = model.ExpandedName(ns=model.NS["pdfaid"], local_name="conformance")
CASE_JSON_NAME = "case.json"


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """sRGB IEC 61966-2.1 as an ICC profile, made by LittleCMS (no file shipped)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _embedded_file(w: IncrementalPdfFileWriter, data: bytes, mime: str, at: _dt.datetime) -> generic.IndirectObject:
    stream = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/EmbeddedFile"),
        pdf_name("/Subtype"): pdf_name("/" + mime),  # written as /application#2Fjson
        pdf_name("/Params"): generic.DictionaryObject({
            pdf_name("/ModDate"): pdf_string(generic.pdf_date(at)),
            pdf_name("/Size"): generic.NumberObject(len(data)),
            pdf_name("/CheckSum"): generic.ByteStringObject(hashlib.md5(data).digest())}),  # noqa: S324 - PDF's field
    }, stream_data=data)
    stream.compress()
    return w.add_object(stream)


def archival_copy(pdf: bytes, *, title: str, author: str, attachment: bytes | None = None,
                  attachment_name: str = CASE_JSON_NAME, attachment_description: str = "办件数据（JSON）",
                  at: _dt.datetime | None = None) -> bytes:
    """``pdf`` as PDF/A-3b (incremental update), with ``attachment`` (JSON) as an associated file."""
    at = (at or _dt.datetime.now().astimezone()).replace(microsecond=0)
    try:
        w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except Exception as exc:  # parser errors of several types: the input is not a PDF we can update
        raise PrintingError(f"文件不是有效的PDF，无法生成归档版：{exc}") from None
    root = w.root
    if "/Encrypt" in w.prev.trailer:
        raise PrintingError("加密的PDF不能作为归档版（PDF/A不允许加密）。")
    icc = generic.StreamObject({pdf_name("/N"): generic.NumberObject(3)}, stream_data=srgb_profile())
    icc.compress()
    intent = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/OutputIntent"), pdf_name("/S"): pdf_name("/GTS_PDFA1"),
        pdf_name("/OutputConditionIdentifier"): pdf_string("sRGB IEC61966-2.1"),
        pdf_name("/Info"): pdf_string("sRGB IEC61966-2.1"),
        pdf_name("/DestOutputProfile"): w.add_object(icc)})
    root["/OutputIntents"] = generic.ArrayObject([w.add_object(intent)])
    if attachment is not None:
        spec = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Filespec"),
            pdf_name("/F"): pdf_string(attachment_name), pdf_name("/UF"): pdf_string(attachment_name),
            pdf_name("/Desc"): generic.TextStringObject(attachment_description),
            pdf_name("/AFRelationship"): pdf_name("/Data")})
        ef = _embedded_file(w, attachment, "application/json", at)
        spec["/EF"] = generic.DictionaryObject({pdf_name("/F"): ef, pdf_name("/UF"): ef})
        spec_ref = w.add_object(spec)
        tree = generic.DictionaryObject({pdf_name("/Names"): generic.ArrayObject([pdf_string(attachment_name), spec_ref])})
        # (pyHanko's embed_file would also raise the version to PDF 2.0, which PDF/A-3 forbids)
        if "/Names" in root:
            names_ref = root.raw_get("/Names")
            root["/Names"]["/EmbeddedFiles"] = tree
            if isinstance(names_ref, generic.IndirectObject):
                w.mark_update(names_ref)
        else:
            root["/Names"] = w.add_object(generic.DictionaryObject({pdf_name("/EmbeddedFiles"): tree}))
        root["/AF"] = generic.ArrayObject([spec_ref])
    root["/Lang"] = pdf_string("zh-CN")
    w.ensure_output_version(version=(1, 7))  # PDF/A-3 is ISO 32000-1 (PDF 1.7)
    w.update_root()
    # Info dictionary and XMP from one model: reportlab's Info entries are replaced, so that
    # every Info key has its XMP twin with the same value (PDF/A 6.6.2.3).
    info_ref = w.trailer.raw_get("/Info")
    info = info_ref.get_object()
    for key in list(info.keys()):
        del info[key]
    w.mark_update(info_ref)
    meta = w.document_meta
    meta.title = title
    meta.author = author or None
    meta.creator = "counter-app"
    meta.created = at
    meta.last_modified = at
    meta.xmp_extra = [model.XmpStructure.of((_PDFAID_PART, model.XmpValue("3")),
                                            (_PDFAID_CONFORMANCE, model.XmpValue("B")))]
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def embedded_attachment(pdf: bytes, name: str = CASE_JSON_NAME) -> bytes | None:
    """The associated file ``name`` of an archival copy, or None."""
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    for spec in _associated_files(r):
        if str(_get(spec, "/UF", _get(spec, "/F", ""))) == name:
            return spec["/EF"]["/F"].get_object().data
    return None


def _associated_files(r: PdfFileReader) -> list:
    af = _get(r.root, "/AF")
    return [s.get_object() for s in (af.get_object() if af is not None else [])]


def _get(d, key, default=None):
    """``d[key]`` dereferenced (pyHanko's ``get`` returns indirect references as they are)."""
    return d[key] if key in d else default


def _pages(node, depth=0):
    node = node.get_object()
    if _get(node, "/Type") == "/Pages" and depth < 32:
        for kid in node["/Kids"]:
            yield from _pages(kid, depth + 1)
    else:
        yield node


def _walk_fonts(r: PdfFileReader):
    seen: set = set()

    def fonts_in(resources, depth=0):
        if resources is None or depth > 8:
            return
        resources = resources.get_object()
        for _, ref in (_get(resources, "/Font") or generic.DictionaryObject()).items():
            key = getattr(ref, "idnum", id(ref))
            if key in seen:
                continue
            seen.add(key)
            yield ref.get_object()
        for _, ref in (_get(resources, "/XObject") or generic.DictionaryObject()).items():
            xo = ref.get_object()
            if _get(xo, "/Subtype") == "/Form":
                yield from fonts_in(_get(xo, "/Resources"), depth + 1)

    for page in _pages(r.root["/Pages"]):
        yield from fonts_in(_get(page, "/Resources"))
        for annot in _get(page, "/Annots") or []:
            ap = _get(annot.get_object(), "/AP")
            normal = _get(ap, "/N") if ap is not None else None
            if normal is not None and isinstance(normal.get_object(), generic.StreamObject):
                yield from fonts_in(_get(normal.get_object(), "/Resources"))


def _font_embedded(font) -> bool:
    if _get(font, "/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    desc = _get(font, "/FontDescriptor")
    if desc is None:
        return _get(font, "/Subtype") == "/Type3"
    desc = desc.get_object()
    return any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def pdfa_problems(pdf: bytes) -> list[str]:
    """What makes ``pdf`` not PDF/A-3b, as far as checked here (Chinese); empty when none found."""
    problems: list[str] = []
    try:
        r = PdfFileReader(io.BytesIO(pdf), strict=False)
        root = r.root
    except Exception as exc:  # any parser error: not readable at all
        return [f"无法解析PDF：{exc}"]
    if not pdf.startswith(b"%PDF-1.") or pdf[7:8] not in b"01234567":
        problems.append("文件头不是 %PDF-1.0…1.7。")
    if r.encrypted:
        problems.append("文件被加密。")
    meta = _get(root, "/Metadata")
    if meta is None:
        problems.append("缺少XMP元数据。")
    else:
        xmp = meta.get_object().data
        if b"pdfaid:part=\"3\"" not in xmp and b"<pdfaid:part>3<" not in xmp:
            problems.append("XMP中没有PDF/A-3标识（pdfaid:part=3）。")
        if b"pdfaid:conformance=\"B\"" not in xmp and b"<pdfaid:conformance>B<" not in xmp:
            problems.append("XMP中没有一致性级别（pdfaid:conformance=B）。")
    intents = _get(root, "/OutputIntents")
    if not intents or not any(_get(i.get_object(), "/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i.get_object()
                              for i in intents):
        problems.append("缺少PDF/A输出意图（GTS_PDFA1及ICC配置文件）。")
    names = _get(root, "/Names")
    names = names if names is not None else {}
    if "/JavaScript" in names or "/OpenAction" in root or "/AA" in root:
        problems.append("文件含JavaScript或自动动作。")
    for font in _walk_fonts(r):
        if not _font_embedded(font):
            problems.append(f"字体未嵌入：{_get(font, '/BaseFont')}。")
    for spec in _associated_files(r):
        if "/AFRelationship" not in spec or "/UF" not in spec:
            problems.append("关联文件缺少 AFRelationship 或 UF。")
        ef = _get(spec["/EF"], "/F") if "/EF" in spec else None
        if ef is None or "/Subtype" not in ef or "/ModDate" not in (_get(ef, "/Params") or {}):
            problems.append("关联文件缺少MIME类型或修改日期。")
    return problems
