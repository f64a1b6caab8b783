"""The admin's forms: JSON fields shown indented, and the checks a form runs before a save (the
same `check_*` functions the services call)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput

from annotations.models import (
    Actor,
    Article,
    Membership,
    Mention,
    Project,
)
from annotations.schema import SchemaError
from annotations.services.actors import check_actor
from annotations.services.articles import ArticleInput, check_article, check_article_update, content_hash
from annotations.services.items import check_mention_update
from annotations.services.projects import PROJECT_EDITABLE, check_membership, check_project_schema


class PrettyJSONField(forms.JSONField):
    """Shows JSON indented, so a schema or metadata object can be read and edited in a textarea."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


JSON_WIDGET = forms.Textarea(attrs={"rows": 20, "class": "wb-json"})


def add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a check's errors on the form: on the field they name when the form has it, else on the form."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for field, messages in exc.message_dict.items():
        for message in messages:
            if field in form.fields:
                form.add_error(field, message)
            else:
                form.add_error(None, f"{field}: {message}")


class ProjectAdminForm(forms.ModelForm):
    label_schema = PrettyJSONField(widget=JSON_WIDGET, help_text=Project._meta.get_field("label_schema").help_text)

    class Meta:
        model = Project
        fields = PROJECT_EDITABLE  # what `project_update` takes

    def clean_label_schema(self) -> Any:
        document = self.cleaned_data["label_schema"]
        try:
            check_project_schema(label_schema=document)
        except SchemaError as exc:
            raise ValidationError(exc.errors) from exc
        return document


class ActorAdminForm(forms.ModelForm):
    aliases = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "wb-json"}),
        required=False,
        help_text='A JSON list of spellings, e.g. ["Niger", "Republic of Niger"].',
    )

    class Meta:
        model = Actor
        fields = ("name", "kind", "aliases", "country", "sector", "wikidata_id", "description")

    def clean_aliases(self) -> list[str]:
        aliases = self.cleaned_data["aliases"]
        if aliases in (None, ""):
            return []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise ValidationError("must be a JSON list of non-empty strings")
        return [a.strip() for a in aliases]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"]
        if country and (len(country) != 3 or not country.isalpha() or not country.isupper()):
            raise ValidationError(f"{country!r} is not an ISO 3166-1 alpha-3 code (three capital letters, e.g. NER)")
        return country

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            try:
                check_actor(
                    name=cleaned.get("name", ""),
                    kind=cleaned.get("kind", ""),
                    country=cleaned.get("country", ""),
                    sector=cleaned.get("sector", ""),
                )
            except ValidationError as exc:
                add_errors(self, exc)
        return cleaned


class ArticleAdminForm(forms.ModelForm):
    metadata = PrettyJSONField(widget=forms.Textarea(attrs={"rows": 6, "class": "wb-json"}), required=False)

    class Meta:
        model = Article
        # The admin passes the fields each page shows; these are the ones `clean` reads.
        fields = ("project", "title", "text", "metadata")

    def clean_metadata(self) -> dict[str, Any]:
        metadata = self.cleaned_data["metadata"]
        if metadata in (None, ""):
            return {}
        if not isinstance(metadata, dict):
            raise ValidationError("must be a JSON object")
        return metadata

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's returns its cleaned_data
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        if "text" not in self.fields:  # a stored article: the text stays as imported
            try:
                check_article_update(
                    article=self.instance,
                    title=cleaned.get("title", ""),
                    source=cleaned.get("source", ""),
                    url=cleaned.get("url", ""),
                    language=cleaned.get("language", ""),
                    metadata=cleaned.get("metadata"),
                )
            except ValidationError as exc:
                add_errors(self, exc)
            return cleaned
        text = cleaned["text"]
        try:
            check_article(
                article=ArticleInput(
                    title=cleaned.get("title", ""),
                    text=text,
                    url=cleaned.get("url", ""),
                    metadata=cleaned.get("metadata"),
                )
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return cleaned
        digest = content_hash(text)
        duplicate = Article.objects.filter(project=cleaned["project"], content_hash=digest).first()
        if duplicate is not None:
            self.add_error("text", f"article {duplicate.pk} of this project has the same text ({duplicate.title!r})")
        self.instance.content_hash = digest
        return cleaned


class MentionAdminForm(forms.ModelForm):
    class Meta:
        model = Mention
        fields = ("label", "start", "end", "actor")

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's returns its cleaned_data
        cleaned = self.cleaned_data
        if self.errors or self.instance.pk is None:
            return cleaned
        # The checks the service makes before it writes (label in the schema, span in the text,
        # roles the mention fills still accept its label), without writing.
        current = Mention.objects.select_related("layer__article__project").get(pk=self.instance.pk)
        try:
            check_mention_update(mention=current, label=cleaned["label"], start=cleaned["start"], end=cleaned["end"])
        except ValidationError as exc:
            add_errors(self, exc)
        return cleaned

    def _post_clean(self) -> None:
        # When the service has named the problem, the model's generic constraint message
        # ("Constraint … is violated") would only repeat it.
        if self.errors:  # the errors so far: full_clean has set them before it calls this
            return
        super()._post_clean()  # type: ignore[misc]  # BaseModelForm._post_clean is not in the stubs


class MembershipAdminForm(forms.ModelForm):
    """A membership, checked as `membership_set` checks it (the project may be the inline's parent)."""

    class Meta:
        model = Membership
        fields = ("project", "user", "role")

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's returns its cleaned_data
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        project = cleaned.get("project") or getattr(self.instance, "project", None)
        try:
            check_membership(project=project, user=cleaned.get("user"), role=cleaned.get("role", ""))
        except ValidationError as exc:
            add_errors(self, exc)
        return cleaned
