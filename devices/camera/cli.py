"""Command-line part of the camera drivers, registered by ``devices.cli``:

- ``counter-app photo INPUT -o OUT.jpg [--json] [--limits FILE] [--explain FILE.png]`` — the card
  photo from a picture file, with every rule's value, limit and verdict and the ticks the clerk
  still owes; ``--explain`` writes an annotated PNG (landmarks, person mask, crop box, rule bands);
  exit 1 (and the reason) when no compliant photo can be made.
- ``counter-app scan INPUT... -o OUT.pdf [--gray|--bw] [--watermark] [--max-kb N]`` — pages
  photographed by the document camera (or scanned) to one PDF.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _user_error(message: str):
    from counter_app.errors import UserError

    return UserError(message)


def _read_picture(path_text: str):
    import cv2
    import numpy as np

    path = Path(path_text)
    if not path.is_file():
        raise _user_error(f"找不到文件：{path}")
    data = np.fromfile(str(path), dtype=np.uint8)  # also works for Chinese paths on Windows
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise _user_error(f"无法读取图片 {path.name}：文件损坏或不是 JPG/PNG/BMP/TIFF 图片")
    return image


def _write(path_text: str, data: bytes) -> Path:
    path = Path(path_text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise _user_error(f"无法写入 {path}：{exc.strerror or exc}") from None
    return path


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _cmd_photo(args: argparse.Namespace) -> int:
    from devices.photo import DEFAULT_LIMITS, load_limits, make_compliant_photo

    limits = DEFAULT_LIMITS
    if args.limits:
        try:
            limits = load_limits(args.limits)
        except (OSError, ValueError) as exc:
            raise _user_error(f"无法读取照片参数文件 {args.limits}：{exc}") from None
    image = _read_picture(args.input)
    result = make_compliant_photo(image, limits, engine=args.engine)
    if result.ok:
        _write(args.output, result.jpeg)
    if args.explain:
        import cv2

        from devices.photo.explain import explain_image

        ok, png = cv2.imencode(".png", explain_image(image, result, limits))
        _write(args.explain, png.tobytes())
    if args.json:
        report = result.to_dict()
        report["output"] = str(args.output) if result.ok else None
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"{'检查项':<10}{'测量值':>10}  {'要求':<30}结果")
        for c in result.checks:
            mark = "通过" if c.passed else f"不通过：{c.message}"
            print(f"{c.label:<10}{_fmt(c.value):>10}  {c.limit:<30}{mark}")
        for c in result.clerk_checks:
            print(f"{c.label:<10}{'需人工确认':>10}  {c.reason}")
        if result.engine_note:
            print(result.engine_note)
        if result.size_bytes:
            print(f"文件大小：{result.size_bytes / 1024:.1f} KB，JPEG 质量 {result.quality}，"
                  f"{limits.width_px}×{limits.height_px}，{limits.dpi} dpi")
        if result.ok:
            print(f"已生成合格照片：{args.output}")
        if args.explain:
            print(f"已生成说明图：{args.explain}")
    if not result.ok:
        print(f"无法生成合格照片：{result.reason}", file=sys.stderr)
        return 1
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from devices.scanner.pages import ColorMode, DocumentError, DocumentOptions, process_page
    from devices.scanner.pdf import images_to_pdf

    mode = ColorMode.BW if args.bw else ColorMode.GRAY if args.gray else ColorMode.COLOR
    if args.max_kb <= 0:
        raise _user_error("每页大小上限必须大于 0 KB")
    options = DocumentOptions(color_mode=mode, max_bytes=int(args.max_kb * 1024), watermark=args.watermark,
                              find_page=not args.no_page_detect)
    pages = []
    for number, name in enumerate(args.inputs, start=1):
        image = _read_picture(name)
        try:
            page = process_page(image, options)
        except DocumentError as exc:
            raise _user_error(f"第 {number} 页（{Path(name).name}）：{exc.message}") from None
        pages.append(page)
        found = "已找到纸张边缘并校正" if page.page_found else "未找到纸张边缘，使用整幅图像"
        print(f"第 {number} 页：{found}；纠偏 {page.skew_deg:+.1f}°；{page.width}×{page.height}；"
              f"{mode.label}；{page.size_bytes / 1024:.0f} KB（质量 {page.quality}）"
              + ("；已加盖核对水印" if page.watermarked else ""))
    pdf = images_to_pdf([p.jpeg for p in pages], title=args.title or "")
    _write(args.output, pdf)
    print(f"已生成 PDF：{args.output}（{len(pages)} 页，{len(pdf) / 1024:.0f} KB）")
    return 0


def register(sub) -> None:
    photo = sub.add_parser("photo", help="由照片文件生成社保卡白底证件照（358×441）",
                           description="检测人脸、校正、替换白色背景、压缩到 14–40 KB，并输出每一项检查结果。")
    photo.add_argument("input", metavar="INPUT", help="照片文件（JPG/PNG/BMP/TIFF）")
    photo.add_argument("-o", "--output", required=True, metavar="OUT.jpg", help="输出的合格照片")
    photo.add_argument("--json", action="store_true", help="以 JSON 输出检查报告")
    photo.add_argument("--limits", metavar="FILE", help="本省照片参数（TOML/JSON），覆盖默认要求")
    photo.add_argument("--explain", metavar="FILE.png", help="另存一张说明图：人脸关键点、人像轮廓、裁剪框和各项要求")
    photo.add_argument("--engine", choices=("auto", "cnn", "haar"), default="auto",
                       help="人脸检测方式：auto（默认，神经网络，模型不可用时改用 Haar）、cnn、haar（对比用）")
    photo.set_defaults(func=_cmd_photo)

    scan = sub.add_parser("scan", help="高拍仪拍摄的页面：找边、校正、纠偏、压缩，合并为 PDF",
                          description="每页找纸张边缘并校正透视、纠偏、裁边，按大小上限压缩为 JPEG，合并为一个 PDF。")
    scan.add_argument("inputs", nargs="+", metavar="INPUT", help="页面图片，按页序")
    scan.add_argument("-o", "--output", required=True, metavar="OUT.pdf", help="输出的 PDF")
    colour = scan.add_mutually_exclusive_group()
    colour.add_argument("--gray", action="store_true", help="灰度")
    colour.add_argument("--bw", action="store_true", help="黑白")
    scan.add_argument("--watermark", action="store_true", help="加盖“此件经与原件核对无误”")
    scan.add_argument("--max-kb", type=float, default=1024, metavar="N", help="每页大小上限（KB，默认 1024）")
    scan.add_argument("--no-page-detect", action="store_true", help="不找纸张边缘（平板扫描仪的图像）")
    scan.add_argument("--title", help="PDF 标题")
    scan.set_defaults(func=_cmd_scan)
