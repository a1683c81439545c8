from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_TEXT = 200_000


class IngestForm(forms.Form):
    text = forms.CharField(
        label=_("规划计划正文"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_("粘贴网页或文件中的正文；网页的栏目、导航等内容会被忽略。"),
    )
    file = forms.FileField(label=_("或上传 .txt 文件"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            raw = upload.read(MAX_TEXT * 4 + 1)
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    data["text"] = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise forms.ValidationError(_("无法识别文件编码：请另存为 UTF-8 文本后上传。"))
        if not (data.get("text") or "").strip():
            raise forms.ValidationError(_("请粘贴正文或上传文件。"))
        return data


class PublishForm(forms.Form):
    text = forms.CharField(widget=forms.HiddenInput, max_length=MAX_TEXT)
    title = forms.CharField(label=_("标题"), max_length=300)
    issuer = forms.CharField(label=_("发文机关"), max_length=300, required=False)
    doc_number = forms.CharField(label=_("文号"), max_length=100, required=False)
    issued_on = forms.DateField(label=_("成文日期"), required=False)
    create = forms.MultipleChoiceField(
        label=_("新建为本单位部门"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, unmatched: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["create"].choices = [(name, name) for name in unmatched]
