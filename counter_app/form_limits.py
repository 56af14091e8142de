"""How much each field of 附件1 can hold.

The printed form (two A4 pages, the source's rows) has room for so many characters per box; a value
longer than that would push a page over and fail only when the form is rendered, with the applicant
waiting. So validation knows these limits and says which field to shorten, long before printing.
``tests/printing`` renders an application with every field at its limit to prove the form holds it.
"""
from __future__ import annotations

# path in the case JSON: (label as on the form, most characters)
FIELD_LIMITS: dict[str, tuple[str, int]] = {
    "applicant.name": ("申请人姓名", 30),
    "applicant.ethnicity": ("民族", 12),
    "applicant.political_status": ("政治面貌", 12),
    "applicant.education": ("学历", 12),
    "applicant.marital_status": ("婚姻状况", 6),
    "applicant.phone": ("联系电话", 20),
    "applicant.backup_contact": ("备用联系人", 20),
    "applicant.backup_relation": ("备用联系人（关系）", 8),
    "applicant.backup_phone": ("联系人电话", 20),
    "applicant.placement_place": ("拟安置地", 40),
    "applicant.current_address": ("现居住地址", 80),
    "veteran_affairs.bank_account": ("社保卡银行账户卡号", 32),
    "veteran_affairs.bank_name": ("开户行", 30),
    "hukou.pre_enlistment_address": ("入伍前户籍地址", 80),
    "hukou.relation_to_head": ("与户主关系", 8),
    "hukou.head_name": ("户主姓名", 20),
    "hukou.head_phone": ("户主联系方式", 20),
    "hukou.property_info": ("房屋产权信息", 40),
    "hukou.target_address": ("拟申请落户地址", 80),
    "hukou.police_station": ("拟落户地公安派出所", 40),
    "pension.card_bank": ("发卡银行", 30),
    "pension.card_mailing_address": ("社保卡邮寄送达地址", 80),
    "medical.flexible_city": ("参加灵活就业（市）", 10),
    "medical.flexible_county": ("参加灵活就业（县、市、区）", 10),
    "medical.insured_city": ("参保地（市）", 10),
    "medical.insured_county": ("参保地（县、市、区）", 10),
    "medical.insured_town": ("参保地（乡镇、街道）", 12),
    "medical.insured_village": ("参保地（村、社区）", 12),
}
