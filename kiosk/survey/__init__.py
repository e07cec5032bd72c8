"""The needs survey: one short survey written by coordinators, answered anonymously (only the
answers and the month), with results as charts and tables under the small-cell rule.

Rules in rules.py; views in views.py; templates in ``templates/survey/``. Imports ``core``
and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Setting, Table
from . import rules, schema, views

FEATURE = Feature(
    name="survey",
    blueprints=(views.bp,),
    tables=(Table(rules.TABLE, schema.Answer, random_ids=True),),
    settings=(Setting(rules.META_KEY, schema.Survey),),
    session_keys=(views.SESSION_FLAG,),
    audit_actions={"survey": _l("saved the survey"), "survey-open": _l("opened the survey"),
                   "survey-close": _l("closed the survey"), "survey-new": _l("started a new survey")},
    exports=(rules.export_files,),
    upkeep=rules.upkeep,
    sealers=(rules.seal_plain,),
    programs=(Link(70, "survey.answer", _l("Needs survey")),),
    coordinator_links=(Link(30, "survey.edit", _l("Survey")),),
)
