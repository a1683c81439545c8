"""Human names of the actions written to the log (the codes themselves never change)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "regions.divisions.load": _("载入区划代码"),
    "regions.orgunit.create": _("新增组织单位"),
    "regions.orgunit.update": _("修改组织单位"),
    "regions.orgunit.retire": _("撤销组织单位"),
    "regions.orgunit.reinstate": _("恢复组织单位"),
    "regions.orgunit.delete": _("删除组织单位"),
    "regions.department.create": _("新增部门"),
    "regions.department.update": _("修改部门"),
    "regions.department.delete": _("删除部门"),
    "accounts.user.create": _("新增用户"),
    "accounts.user.update": _("修改用户"),
    "accounts.user.set_password": _("设置密码"),
    "accounts.user.login": _("登录"),
    "accounts.token.create": _("签发接口令牌"),
    "demo.load": _("载入示例数据"),
    "indicators.catalogue.load": _("载入指标体系"),
    "indicators.submission.open": _("新建填报"),
    "indicators.submission.submit": _("上报数据"),
    "indicators.submission.approve": _("审核通过"),
    "indicators.submission.return": _("退回填报"),
    "indicators.submission.reopen": _("重新打开已审定数据"),
    "indicators.submission.scan": _("上传盖章扫描件"),
    "indicators.values.set": _("填写数值"),
    "indicators.values.import": _("导入数据文件"),
    "indicators.target.create": _("下达目标"),
    "indicators.target.update": _("修改目标"),
    "indicators.target.delete": _("删除目标"),
    "evaluation.methodology.save": _("保存评价方法"),
    "evaluation.run.compute": _("计算评价指数"),
    "evaluation.scheme.save": _("保存评价方案"),
    "evaluation.assessment.run": _("开展评价与考核"),
    "plans.plan.publish": _("发布规划计划"),
    "plans.progress.report": _("报送任务进展"),
    "plans.progress.confirm": _("确认任务进展"),
    "plans.milestone.add": _("添加任务节点"),
    "plans.milestone.done": _("完成任务节点"),
    "plans.supervision.sweep": _("每日督办"),
    "plans.supervision.urge": _("催办"),
    "plans.supervision.instruction": _("领导批示"),
    "plans.supervision.extension_request": _("延期申请"),
    "plans.supervision.extension_approved": _("同意延期"),
    "plans.supervision.extension_refused": _("不同意延期"),
}


def label_for(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
