"""/api/v1/projects/<slug>/models/: the model registry, training, and manual activation / rollback.

Managers, reviewers and consumers read the registry (annotators: 403); managers train, activate
and roll back. A training request answers 202 with the queued job, 400 when the project has too
little adjudicated gold (the message says how much is needed), 409 with the running job's id
when one is already pending or running.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.models import ModelComponent, TrainedModel
from annotations.services.registry import COMPONENTS, RULES, active_components, component_activate, component_rollback
from annotations.services.training import TrainingBusy, training_start
from api.permissions import CAN_READ_ALL_LAYERS, CAN_START_JOBS, require_role
from api.serializers.jobs import JobDetailOutput
from api.serializers.models import ActivePartOutput, ComponentInput, TrainBusyOutput, TrainedModelOutput, TrainInput
from api.views.base import SLUG, PagePagination, ProjectScopedMixin, error_responses, validated


@extend_schema_view(
    list=extend_schema(
        summary="Trained models of the project, newest first, with each component's dev scores and gate decision",
        parameters=[SLUG],
        responses={200: TrainedModelOutput(many=True), **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="One trained model", parameters=[SLUG], responses={200: TrainedModelOutput, **error_responses(403)}
    ),
)
class TrainedModelViewSet(
    ProjectScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    pagination_class = PagePagination
    serializer_class = TrainedModelOutput

    def get_queryset(self) -> QuerySet[TrainedModel]:
        if self.schema_only:
            return TrainedModel.objects.none()
        project = self.get_project()
        require_role(self.request, project, CAN_READ_ALL_LAYERS, "Reading the model registry")
        return TrainedModel.objects.filter(project=project).select_related("dataset").prefetch_related("components")


class ActivePipelineView(ProjectScopedMixin):
    @extend_schema(
        summary="What pre-annotation runs now, per component and language, and why",
        parameters=[SLUG],
        responses={200: ActivePartOutput(many=True), **error_responses(403)},
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_READ_ALL_LAYERS, "Reading the model registry")
        languages = sorted(set(TrainedModel.objects.filter(project=project).values_list("language", flat=True)))
        parts = []
        for language in languages or ["en"]:
            active = active_components(project=project, language=language)
            for name in COMPONENTS:
                component = active.get(name)
                parts.append(
                    {
                        "component": name,
                        "language": language,
                        "runs": component.model.version if component else RULES,
                        "decision": component.decision if component else "no trained component has beaten the rules",
                    }
                )
        return Response(ActivePartOutput(parts, many=True).data)


class TrainView(ProjectScopedMixin):
    @extend_schema(
        summary="Train on the project's adjudicated gold (managers)",
        description="Queues a training job (202). It trains on the gold's train split, evaluates on dev, and the "
        "gate activates each component only where it beats the active pipeline on the same dev articles.",
        parameters=[SLUG],
        request=TrainInput,
        responses={
            202: JobDetailOutput,
            **error_responses(400, 403),
            409: OpenApiResponse(TrainBusyOutput, "A training job of this project is already pending or running."),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_START_JOBS, "Training")
        data = validated(TrainInput, request.data)
        try:
            job = training_start(project=project, created_by=self.user, fraction=data["fraction"])
        except TrainingBusy as busy:
            return Response({"detail": str(busy), "job": busy.job.pk}, status=status.HTTP_409_CONFLICT)
        return Response(JobDetailOutput(job).data, status=status.HTTP_202_ACCEPTED)


class ComponentActionView(ProjectScopedMixin):
    action_name = ""

    def component(self, request: Request, pk: int) -> ModelComponent:
        project = self.get_project()
        require_role(request, project, CAN_START_JOBS, "Activating or rolling back a model")
        data = validated(ComponentInput, request.data)
        component = (
            ModelComponent.objects.filter(model__project=project, model_id=pk, name=data["component"])
            .select_related("model")
            .first()
        )
        if component is None:
            raise NotFound(f"model {pk} of this project has no component {data['component']!r}")
        return component

    def answer(self, pk: int) -> Response:
        model = TrainedModel.objects.prefetch_related("components").select_related("dataset").get(pk=pk)
        return Response(TrainedModelOutput(model).data)


class ActivateView(ComponentActionView):
    @extend_schema(
        summary="Activate a trained component by hand, whatever the gate said (managers)",
        parameters=[SLUG],
        request=ComponentInput,
        responses={200: TrainedModelOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        component = self.component(request, pk)
        try:
            component_activate(component=component, decision=f"activated by hand by {self.user.get_username()}")
        except ValueError as exc:
            raise ValidationError({"component": [str(exc)]}) from exc
        return self.answer(pk)


class RollbackView(ComponentActionView):
    @extend_schema(
        summary="Roll back an active component: the one it replaced (or the rules) runs again (managers)",
        parameters=[SLUG],
        request=ComponentInput,
        responses={200: TrainedModelOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        component = self.component(request, pk)
        try:
            component_rollback(component=component, by=self.user.get_username())
        except ValueError as exc:
            raise ValidationError({"component": [str(exc)]}) from exc
        return self.answer(pk)
