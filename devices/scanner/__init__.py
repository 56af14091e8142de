"""Document scanning: pages from the document camera (高拍仪) or a flatbed scanner to a PDF.

- ``pages``          find the sheet, flatten, deskew, crop, grey or black-and-white, JPEG under a limit
- ``pdf``            the one scan-to-PDF path (page images → A4 PDF; files a clerk imports → PDFs),
                     used by the acceptance screens (in the render process) and ``counter-app scan``
- ``import_folder``  the watched folder a flatbed scanner saves into

No Qt, no database; the watermark stamp on checked copies is printing's (``printing.watermark``).
"""
