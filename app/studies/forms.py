from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.forms_common import AppForm, NumberField, WholeNumberField
from delphi import ItemKind, StudyMode
from delphi.items import missing_fields


class StudyForm(AppForm):
    title = StringField(
        "Study title", validators=[DataRequired("Enter a title for the study"), Length(max=200)]
    )
    purpose = TextAreaField(
        "Purpose",
        description="Shown to panellists: what the study is for and how the results will be used.",
        validators=[Length(max=5000)],
    )
    scale = RadioField(
        "Rating scale",
        choices=[("9", "1 to 9 (recommended)"), ("5", "1 to 5")],
        default="9",
        validators=[InputRequired("Choose a rating scale")],
    )
    rule = RadioField(
        "Consensus rule",
        choices=[
            ("percentage", "Percentage rule: share of ratings in the top and bottom bands"),
            ("median_iqr", "Median and interquartile range"),
            ("rand", "RAND/UCLA: median and disagreement index"),
        ],
        default="percentage",
        validators=[InputRequired("Choose a consensus rule")],
    )
    pct_in = NumberField(
        "Consensus in: at least this % in the top band",
        default=70,
        places=None,
        validators=[
            InputRequired("Enter a percentage"),
            NumberRange(50, 100, "Enter a percentage from 50 to 100"),
        ],
    )
    pct_out_max = NumberField(
        "And at most this % in the bottom band",
        default=15,
        places=None,
        validators=[
            InputRequired("Enter a percentage"),
            NumberRange(0, 50, "Enter a percentage from 0 to 50"),
        ],
    )
    max_iqr = NumberField(
        "Median and IQR rule: largest interquartile range",
        default=2,
        places=None,
        validators=[
            InputRequired("Enter a number"),
            NumberRange(0, 8, "Enter a number from 0 to 8"),
        ],
    )
    require_all_groups = BooleanField("Every stakeholder group must meet the rule")
    mode = RadioField(
        "How the study runs",
        choices=[(mode.value, mode.label) for mode in StudyMode],
        default=StudyMode.ROUNDS.value,
        validators=[InputRequired("Choose how the study runs")],
    )
    proposals_open = BooleanField(
        "Panellists may propose new items and better wording during round 1"
    )
    share_specification = BooleanField(
        "Panellists may read the specification (without names) once the study is completed"
    )
    random_item_order = BooleanField(
        "Show each panellist the items of a theme in a random order",
        description=(
            "Against order effects: each panellist gets their own order, the same in every "
            "round; themes stay in your order. Fixed once round 1 opens."
        ),
    )
    max_rounds = WholeNumberField(
        "Maximum number of rounds",
        default=3,
        validators=[
            InputRequired("Enter the maximum number of rounds"),
            NumberRange(1, 10, "Enter a number of rounds from 1 to 10"),
        ],
    )


class RetentionForm(AppForm):
    retention_until = DateField(
        "Keep the panel's names and emails until",
        description=(
            "The day after, they are erased (flask apply-retention, run daily). Pseudonymous "
            "ratings, reasons and messages stay. Leave empty to keep them until you set a "
            "date."
        ),
        validators=[Optional()],
        render_kw={"autocomplete": "off"},
    )


class GroupForm(AppForm):
    name = StringField(
        "Stakeholder group name",
        validators=[DataRequired("Enter the group's name"), Length(max=100)],
    )


class ItemForm(AppForm):
    kind = RadioField(
        "Type of item",
        choices=[
            (ItemKind.PROMPT.value, "Prompt (a question for inspectors)"),
            (ItemKind.INDICATOR.value, "Indicator"),
        ],
        default=ItemKind.PROMPT.value,
        validators=[InputRequired("Choose prompt or indicator")],
    )
    theme = StringField("Theme", validators=[DataRequired("Enter the theme"), Length(max=200)])
    text = TextAreaField(
        "Wording",
        description="For an indicator, its name.",
        validators=[DataRequired("Enter the wording of the item"), Length(max=2000)],
    )
    definition = TextAreaField("Definition", validators=[Length(max=2000)])
    numerator = TextAreaField("Numerator", validators=[Length(max=2000)])
    denominator = TextAreaField("Denominator", validators=[Length(max=2000)])
    data_source = TextAreaField("Data source", validators=[Length(max=2000)])
    rationale = TextAreaField("Rationale", validators=[Length(max=2000)])
    reporting_frequency = TextAreaField(
        "Reporting frequency",
        description="For example: quarterly, annually.",
        validators=[Length(max=2000)],
    )
    threshold = TextAreaField(
        "Threshold between \u201cgood\u201d and \u201cneeds improvement\u201d",
        validators=[Length(max=2000)],
    )
    notes = TextAreaField(
        "Notes for inspectors",
        description="Guidance on using the prompt or indicator: what to look for, evidence.",
        validators=[Length(max=2000)],
    )

    def validate_definition(self, field: StringField) -> None:
        # The same rule as the import (delphi.items).
        kind = ItemKind(self.kind.data) if self.kind.data in tuple(ItemKind) else None
        if kind and "definition" in missing_fields(kind, {"definition": field.data or ""}):
            raise ValidationError("Enter the indicator's definition")


class UploadForm(AppForm):
    file = FileField(
        "Upload a file",
        validators=[
            FileRequired("Select a CSV or Excel file"),
            FileAllowed(["csv", "xlsx"], "The file must be a CSV or Excel (.xlsx) file"),
        ],
    )


class _KindsField(SelectMultipleField):
    def pre_validate(self, form: object) -> None:
        known = {value for value, _ in self.choices or []}
        if any(value not in known for value in self.data or []):
            raise ValidationError("Select prompts, indicators or both")


class CriterionForm(AppForm):
    """A rating criterion; the rules (unique name, at least one kind) are `delphi.criteria`."""

    name = StringField(
        "Name",
        description="For example Importance, Validity or Feasibility.",
        validators=[DataRequired("Enter the criterion's name"), Length(max=100)],
    )
    question = TextAreaField(
        "Question panellists answer",
        description="For example: Can trusts and CQC collect it reliably from existing data?",
        validators=[DataRequired("Enter the question panellists answer"), Length(max=500)],
    )
    kinds = _KindsField(
        "Asked of",
        choices=[(k.value, f"{k.label}s") for k in ItemKind],
        validators=[DataRequired("Select the kinds of item this criterion applies to")],
    )
