"""What the whole workspace shares: tags, the inbox, the trash and quick search.

- Tags: every member reads them and may add one (as when typing a new tag on a record);
  renaming, recolouring and deleting change every record's tags, so they need the
  settings power (crm.tags).
- Notifications: only ever the caller's own (crm.notifications); cursor-paged like
  every list, newest first.
- Trash: what the caller can see, most recently trashed first, paged by the trash's
  own cursor (`before`) across kinds; restoring needs the settings power (crm.trash).
- Search: the quick search box (crm.search), a few hits per kind.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.base import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ListRecordsMixin,
    RecordViewSet,
    RetrieveRecordMixin,
    TenantAPIView,
    UpdateRecordMixin,
)
from api.fields import PersonSerializer
from crm.notifications.models import NotificationKind
from crm.notifications.selectors import notification_get, notification_list, unread_count
from crm.notifications.services import notification_mark_read, notifications_mark_all_read
from crm.search.selectors import MAX_LIMIT, SearchKind, quick_search
from crm.tags import tag_delete, tag_get, tag_get_or_create, tag_list, tag_update
from crm.trash import TRASHABLE, TrashCursor, record_restore, trash_cursor, trash_entry_get, trash_list

# --- tags ------------------------------------------------------------------------------


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    color = serializers.CharField(read_only=True, help_text="#rrggbb")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class TagInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, help_text="Unique whatever the case.")
    color = serializers.CharField(max_length=20, allow_blank=True, required=False, help_text="#rrggbb")


class TagChangeInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    color = serializers.CharField(max_length=20, required=False, help_text="#rrggbb")


class TagFilter(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Part of the name.")


@extend_schema_view(
    list=extend_schema(summary="List the workspace's tags", parameters=[TagFilter]),
    retrieve=extend_schema(summary="Get one tag"),
    create=extend_schema(
        summary="Add a tag (answers the existing one when the name is taken, whatever the case)",
        request=TagInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: TagSerializer},
    ),
    partial_update=extend_schema(
        summary="Rename or recolour a tag everywhere (settings power)",
        request=TagChangeInput,
        parameters=[IF_MATCH_HEADER],
    ),
    destroy=extend_schema(
        summary="Delete a tag; it comes off every record (settings power)",
        parameters=[IF_MATCH_HEADER],
        responses={204: None},
    ),
)
class TagViewSet(ListRecordsMixin, RetrieveRecordMixin, UpdateRecordMixin, RecordViewSet):
    serializer_class = TagSerializer
    filter_serializer = TagFilter
    update_serializer = TagChangeInput

    def records(self, actor, query):
        return tag_list(actor=actor, **query)

    def record(self, actor, pk):
        return tag_get(actor=actor, tag_id=pk)

    def create(self, request, *args, **kwargs):
        data = self.validated(TagInput)
        tag = tag_get_or_create(actor=request.user, name=data["name"], color=data.get("color", ""))
        return self.respond(tag, status_code=status.HTTP_201_CREATED)

    def update_record(self, actor, record, data):
        return tag_update(actor=actor, tag=record, **data)

    def destroy(self, request, *args, **kwargs):
        tag = self.get_object()
        with self.edit_guard(tag):
            tag_delete(actor=request.user, tag=tag)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- notifications ---------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="A page of the web app this is about, or empty.")
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class NotificationFilter(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, help_text="true: unread ones only.")


@extend_schema_view(
    list=extend_schema(summary="Your notifications, newest first", parameters=[NotificationFilter]),
    read=extend_schema(summary="Mark one of your notifications read", request=None, parameters=[IF_MATCH_HEADER]),
    read_all=extend_schema(
        summary="Mark all your notifications read",
        request=None,
        responses={200: inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()})},
    ),
    unread_count=extend_schema(
        summary="How many of your notifications are unread",
        responses={200: inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})},
    ),
)
class NotificationViewSet(ListRecordsMixin, RecordViewSet):
    serializer_class = NotificationSerializer
    filter_serializer = NotificationFilter

    def records(self, actor, query):
        return notification_list(user=actor, unread_only=bool(query.get("unread")))

    def record(self, actor, pk):
        return notification_get(user=actor, notification_id=pk)

    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        with self.edit_guard(notification):
            notification = notification_mark_read(user=request.user, notification_id=notification.pk)
        return self.respond(notification)

    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notifications_mark_all_read(user=request.user)})

    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": unread_count(user=request.user)})


# --- trash -----------------------------------------------------------------------------

MAX_TRASH_PAGE = 200
TRASH_KINDS = list(TRASHABLE)


class TrashEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TRASH_KINDS, read_only=True)
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    deleted_at = serializers.DateTimeField(read_only=True)
    deleted_by = PersonSerializer(read_only=True, allow_null=True)


class TrashPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, read_only=True)
    previous = serializers.URLField(allow_null=True, read_only=True, help_text="Always null: the trash pages forward.")
    results = TrashEntrySerializer(many=True, read_only=True)


class TrashFilter(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TRASH_KINDS, required=False)
    before = serializers.CharField(max_length=200, required=False, help_text="Opaque position from a `next` link.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TRASH_PAGE)


class RestoredSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TRASH_KINDS, read_only=True)
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class TrashListView(TenantAPIView):
    @extend_schema(
        summary="What you can see in the trash, most recently trashed first",
        parameters=[TrashFilter],
        responses={200: TrashPageSerializer},
    )
    def get(self, request):
        query = TrashFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        size = data.get("page_size", 50)
        before = TrashCursor.parse(data["before"]) if data.get("before") else None
        entries = trash_list(actor=request.user, kind=data.get("kind"), limit=size + 1, before=before)
        next_link = None
        if len(entries) > size:
            entries = entries[:size]
            next_link = replace_query_param(request.build_absolute_uri(), "before", trash_cursor(entries[-1]).encode())
        body = {"next": next_link, "previous": None, "results": TrashEntrySerializer(entries, many=True).data}
        return Response(body)


class TrashRestoreView(TenantAPIView):
    @extend_schema(
        summary="Bring a record back from the trash (settings power)",
        request=None,
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=TRASH_KINDS),
            OpenApiParameter("id", int, OpenApiParameter.PATH),
            IDEMPOTENCY_HEADER,
        ],
        responses={200: RestoredSerializer},
    )
    def post(self, request, kind: str, id: str):
        record = trash_entry_get(actor=request.user, kind=kind, record_id=int(id))
        restored = record_restore(actor=request.user, record=record)
        return Response({"kind": kind, "id": restored.pk, "title": str(restored)})


# --- quick search ----------------------------------------------------------------------


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(max_length=200, allow_blank=True, help_text="A name, an email or a phone number.")
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, help_text="Hits per kind (default 8)."
    )


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[kind.value for kind in SearchKind], read_only=True)
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    subtitle = serializers.CharField(read_only=True)


class SearchResultsSerializer(serializers.Serializer):
    text = serializers.CharField(read_only=True, help_text="The text as searched (trimmed, lowercased).")
    results = SearchHitSerializer(many=True, read_only=True, help_text="Grouped by kind: leads, contacts...")


class SearchView(TenantAPIView):
    @extend_schema(
        summary="Quick search across leads, contacts, companies and deals",
        description=(
            "Only records you can see. Text shorter than three characters matches name starts; "
            "an email matches exactly; a phone matches in any local format of the workspace's region."
        ),
        parameters=[SearchQuery],
        responses={200: SearchResultsSerializer},
    )
    def get(self, request):
        query = SearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        found = quick_search(actor=request.user, text=data["q"], limit=data.get("limit", 8))
        return Response({"text": found.text, "results": SearchHitSerializer(list(found), many=True).data})
