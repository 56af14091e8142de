"""Code tables printed on Chinese identity cards.

Sex: GB/T 2261.1 (the card stores one digit).  Ethnicity: GB 3304 (two digits; the card face
prints the short name, forms use the full name with 族).
"""
from __future__ import annotations

SEX_NAMES: dict[str, str] = {
    "0": "未知的性别",
    "1": "男",
    "2": "女",
    "9": "未说明的性别",
}

#: GB 3304 — 中国各民族名称的罗马字母拼写法和代码 (codes 01–56, plus 97 and 98).
ETHNICITY_NAMES: dict[str, str] = {
    "01": "汉族",
    "02": "蒙古族",
    "03": "回族",
    "04": "藏族",
    "05": "维吾尔族",
    "06": "苗族",
    "07": "彝族",
    "08": "壮族",
    "09": "布依族",
    "10": "朝鲜族",
    "11": "满族",
    "12": "侗族",
    "13": "瑶族",
    "14": "白族",
    "15": "土家族",
    "16": "哈尼族",
    "17": "哈萨克族",
    "18": "傣族",
    "19": "黎族",
    "20": "傈僳族",
    "21": "佤族",
    "22": "畲族",
    "23": "高山族",
    "24": "拉祜族",
    "25": "水族",
    "26": "东乡族",
    "27": "纳西族",
    "28": "景颇族",
    "29": "柯尔克孜族",
    "30": "土族",
    "31": "达斡尔族",
    "32": "仫佬族",
    "33": "羌族",
    "34": "布朗族",
    "35": "撒拉族",
    "36": "毛南族",
    "37": "仡佬族",
    "38": "锡伯族",
    "39": "阿昌族",
    "40": "普米族",
    "41": "塔吉克族",
    "42": "怒族",
    "43": "乌孜别克族",
    "44": "俄罗斯族",
    "45": "鄂温克族",
    "46": "德昂族",
    "47": "保安族",
    "48": "裕固族",
    "49": "京族",
    "50": "塔塔尔族",
    "51": "独龙族",
    "52": "鄂伦春族",
    "53": "赫哲族",
    "54": "门巴族",
    "55": "珞巴族",
    "56": "基诺族",
    "97": "其他",
    "98": "外国血统中国籍人士",
}


def sex_name(code: str) -> str:
    """Chinese text for a sex code; unknown codes are reported, not guessed."""
    return SEX_NAMES.get(code, f"未知代码{code}")


def ethnicity_name(code: str) -> str:
    return ETHNICITY_NAMES.get(code, f"未知代码{code}")


def ethnicity_short_name(code: str) -> str:
    """The name as printed on the card face (汉, 蒙古, ...)."""
    name = ethnicity_name(code)
    if code not in ETHNICITY_NAMES or code in ("97", "98"):
        return name
    return name[:-1] if name.endswith("族") else name
