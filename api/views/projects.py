"""Projects you are a member of, with your role."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from annotations.models import Article, Membership, Project
from api.permissions import projects_visible
from api.serializers.projects import ProjectDetailOutput, ProjectOutput
from api.views.base import PagePagination, ProjectScopedMixin, error_responses


@extend_schema_view(
    list=extend_schema(
        summary="Your projects (superusers: all)", responses={200: ProjectOutput(many=True), **error_responses()}
    ),
    retrieve=extend_schema(
        summary="A project with its label schema and guidelines",
        responses={200: ProjectDetailOutput, **error_responses()},
    ),
)
class ProjectViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Projects you are a member of, with your role; the detail adds the label schema and guidelines."""

    lookup_field = "slug"
    pagination_class = PagePagination

    def get_queryset(self) -> QuerySet[Project]:
        if self.schema_only:
            return Project.objects.none()
        user = self.user
        role = Subquery(Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1])
        articles = Article.objects.filter(project=OuterRef("pk")).order_by().values("project").annotate(n=Count("pk"))
        return projects_visible(self.request).annotate(
            role=Value("manager") if user.is_superuser else role,
            article_count=Coalesce(Subquery(articles.values("n")), Value(0), output_field=IntegerField()),
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ProjectDetailOutput if self.action == "retrieve" else ProjectOutput
