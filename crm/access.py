"""The one policy layer for client records: who may see and do what.

Every selector passes its queryset through `visible()` and every service calls
`require()` before writing, so a rule is written once for the web UI, the API, exports,
search, reports and background jobs acting for a user.

Rules (accounts/roles.py defines the roles):
- the system (actor None) may do everything; a switched-off user nothing;
- a role grants, per record type and action, a scope: all records, the team's (owned by
  people of the actor's teams, or assigned to those teams), the actor's own, or none;
- a record explicitly shared with the actor is visible to them whatever their role, and
  editable when shared with edit rights (the freelancer's only way in);
- an activity is also visible with any record it belongs to that the actor can see, so a
  client card shows its whole history;
- workspace configuration (pipelines, lead forms, settings, restoring from the trash)
  needs the `settings` power; other models (pipelines, stages, tags...) are readable by
  every active member.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from django.db import connection
from django.db.models import BooleanField, Exists, Expression, F, Model, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import roles
from accounts.policy import has_capability, scope_for
from crm.errors import AccessDenied, RecordNotFound

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=Model)

# Record types governed by role scopes, and the field naming who a record belongs to.
OWNER_FIELD = {
    "lead": "owner",
    "contact": "owner",
    "company": "owner",
    "deal": "owner",
    "task": "owner",
    "quote": "owner",
    "activity": "author",
    "product": None,
}


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    EXPORT = "export"
    CONFIGURE = "configure"


def record_type_of(model: type[Model]) -> str:
    return model._meta.model_name or ""


def visible(queryset: QuerySet[M], *, actor: User | None, action: Action = Action.VIEW) -> QuerySet[M]:
    """The part of `queryset` that `actor` may act on with `action`."""
    if actor is None:
        return queryset
    if not actor.is_active:
        return queryset.none()
    if action == Action.CONFIGURE:
        return queryset if has_capability(actor, roles.SETTINGS) else queryset.none()
    record_type = record_type_of(queryset.model)
    if record_type not in OWNER_FIELD:
        return queryset
    condition = _scope_condition(actor, record_type, action)
    return queryset if condition is None else queryset.filter(condition)


def visible_and_owned(queryset: QuerySet[M], *, actor: User, action: Action = Action.VIEW) -> QuerySet[M]:
    """`actor`'s own records among those they may act on ("my deals").

    When the role's scope covers the actor's own records (own, team or all), that is simply
    the records they own: a condition PostgreSQL reads along an owner index in order,
    where `visible(...)` filtered by owner would keep `owned OR shared` and sort every
    match. Otherwise (a freelancer) only what was shared with them qualifies.
    """
    record_type = record_type_of(queryset.model)
    owner_field = OWNER_FIELD.get(record_type)
    if owner_field is None:
        raise ValueError(f"{record_type} records have no owner")
    mine = queryset.filter(**{f"{owner_field}_id": actor.pk})
    if actor.is_active and scope_for(actor, record_type, action) in (roles.OWN, roles.TEAM, roles.ALL):
        return mine
    return visible(mine, actor=actor, action=action)


def visible_through(relation: str, model: type[Model], *, actor: User | None, action: Action = Action.VIEW) -> Q:
    """The condition, for rows of another model, that the `model` record they point to
    through `relation` (a foreign key's name) is one `actor` may act on.

    For aggregates over a join that is there anyway (leads and their converted deal):
    `relation IN (SELECT id FROM <visible records>)` inside an aggregate's FILTER made
    PostgreSQL test a subquery for every row; this reads the joined row's own columns.
    """
    if actor is None:
        return Q()
    if not actor.is_active:
        return Q(pk__in=[])
    record_type = record_type_of(model)
    condition = _scope_condition(actor, record_type, action) if record_type in OWNER_FIELD else None
    return Q() if condition is None else _prefixed(condition, f"{relation}__")


def _prefixed(condition: Q, prefix: str) -> Q:
    """`condition` with every lookup taken through `prefix` (a relation and `__`)."""
    result = Q()
    result.connector, result.negated = condition.connector, condition.negated
    result.children = [_prefixed_child(child, prefix) for child in condition.children]
    return result


def _prefixed_child(child, prefix: str):
    if isinstance(child, Q):
        return _prefixed(child, prefix)
    if isinstance(child, _OwnedOrShared):
        return child.through(prefix)
    if isinstance(child, tuple):
        return (f"{prefix}{child[0]}", child[1])
    raise TypeError(f"can't take {child!r} through a relation")


def _scope_condition(actor: User, record_type: str, action: str) -> Q | None:
    """None when every record qualifies, else the condition a record must meet."""
    scope = scope_for(actor, record_type, action)
    if scope == roles.ALL:
        return None
    owner_field = OWNER_FIELD[record_type]
    owned = bool(owner_field) and scope in (roles.OWN, roles.TEAM)
    shareable = action in (Action.VIEW, Action.EDIT)
    if owned or shareable:
        condition = Q(
            _OwnedOrShared(
                record_type=record_type,
                actor_pk=actor.pk,
                owner_attname=f"{owner_field}_id" if owned else "",
                shared_for_edit=action == Action.EDIT if shareable else None,
            )
        )
    else:
        condition = Q(pk__in=[])
    if owner_field and scope == roles.TEAM:
        condition |= Q(**{f"{owner_field}_id__in": _team_colleagues(actor)})
        if owner_field == "owner":
            condition |= Q(team_id__in=_team_ids(actor))
    if record_type == "activity" and action == Action.VIEW:
        condition |= _on_visible_records(actor)
    return condition


class _OwnedOrShared(Expression):
    """`owner = me OR id = ANY(ARRAY(<ids of the records shared with me>))`, or either half.

    The condition every scoped list, search and count carries, compiled from fixed text:
    built from lookups (`Q(owner_id=...) | Q(pk__in=...)`) it cost more to construct and
    compile than the rest of the permission check together (bench seats).

    `id = ANY(ARRAY(...))`, not `id IN (<subquery>)`: the array is read once and the
    condition stays indexable, so PostgreSQL can combine the owner and primary-key indexes
    instead of testing every row of the table.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(
        self, *, record_type: str, actor_pk: int, owner_attname: str, shared_for_edit: bool | None, prefix: str = ""
    ) -> None:
        super().__init__()
        self.record_type = record_type
        self.actor_pk = actor_pk
        self.owner_attname = owner_attname
        self.shared_for_edit = shared_for_edit  # None: sharing doesn't grant this action
        self.prefix = prefix
        self.columns = [F(f"{prefix}pk")] + ([F(f"{prefix}{owner_attname}")] if owner_attname else [])

    def through(self, prefix: str) -> _OwnedOrShared:
        """The same condition on the record reached through `prefix` (a relation and `__`)."""
        return _OwnedOrShared(
            record_type=self.record_type,
            actor_pk=self.actor_pk,
            owner_attname=self.owner_attname,
            shared_for_edit=self.shared_for_edit,
            prefix=prefix + self.prefix,
        )

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        if self.prefix or not isinstance(self.columns[0], F):
            # Through a relation, F() sets up the joins. Once bound to columns, a condition
            # is resolved again only as part of a subquery, with the outer query: keep it.
            return super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        # The queried model's own columns: resolving F("pk") and F("owner_id") by name cost
        # more than the rest of this condition (bench seats).
        resolved = self.copy()
        alias, meta = query.get_initial_alias(), query.get_meta()
        resolved.columns = [meta.pk.get_col(alias)] + (
            [meta.get_field(self.owner_attname).get_col(alias)] if self.owner_attname else []
        )
        return resolved

    def get_source_expressions(self) -> list:
        return self.columns

    def set_source_expressions(self, expressions: list) -> None:
        self.columns = list(expressions)

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        parts: list[str] = []
        params: list = []
        if self.owner_attname:
            owner_sql, owner_params = compiler.compile(self.columns[1])
            parts.append(f"{owner_sql} = %s")
            params += [*owner_params, self.actor_pk]
        if self.shared_for_edit is not None:
            pk_sql, pk_params = compiler.compile(self.columns[0])
            statement = _shared_ids_for_edit_sql() if self.shared_for_edit else _shared_ids_sql()
            parts.append(f"{pk_sql} = ANY(ARRAY({statement}))")
            params += [*pk_params, self.record_type, self.actor_pk]
        return "(" + " OR ".join(parts) + ")", params


# The ids of the records shared with a user, read as
# `RecordShare.objects.filter(record_type=..., user_id=...)` would read them.
@cache
def _shared_ids_sql() -> str:
    from crm.models import RecordShare

    table = connection.ops.quote_name(RecordShare._meta.db_table)
    return f"SELECT {table}.record_id FROM {table} WHERE {table}.record_type = %s AND {table}.user_id = %s"  # noqa: S608


@cache
def _shared_ids_for_edit_sql() -> str:
    from crm.models import RecordShare

    return _shared_ids_sql() + f" AND {connection.ops.quote_name(RecordShare._meta.db_table)}.can_edit"


def shared_record_types(*, user: User) -> set[str]:
    """The record types of which at least one record is explicitly shared with `user`."""
    from crm.models import RecordShare

    return set(RecordShare.objects.filter(user_id=user.pk).order_by().values_list("record_type", flat=True).distinct())


def _team_ids(actor: User):
    from accounts.models import Team

    return Team.objects.filter(Q(members=actor) | Q(manager=actor)).values("pk")


def _team_colleagues(actor: User):
    from accounts.models import User as UserModel

    teams = _team_ids(actor)
    return UserModel.objects.filter(Q(teams__in=teams) | Q(managed_teams__in=teams)).values("pk")


def _on_visible_records(actor: User) -> Q:
    """Activities of leads, contacts, companies and deals the actor can see.

    Asked per activity (`EXISTS` on the linked record's primary key), not as
    `contact_id IN (every visible contact)`: that built the set of a sales rep's
    visible contacts, leads, companies and deals (scans of a million rows) to show a
    card's twenty timeline entries.
    """
    from crm.clients.models import Company, Contact
    from crm.deals.models import Deal
    from crm.leads.models import Lead

    condition = Q(pk__in=[])
    for field, model in (("lead", Lead), ("contact", Contact), ("company", Company), ("deal", Deal)):
        record_condition = _scope_condition(actor, record_type_of(model), Action.VIEW)
        if record_condition is None:
            condition |= Q(**{f"{field}_id__isnull": False})
        else:
            condition |= Q(Exists(model.all_objects.filter(record_condition, pk=OuterRef(f"{field}_id"))))
    return condition


def require(
    *, actor: User | None, action: Action, record: Model | None = None, model: type[Model] | None = None
) -> None:
    """Raise AccessDenied unless `actor` may perform `action` (on `record`, or on `model`)."""
    if actor is None:
        return
    if not actor.is_active:
        raise AccessDenied(_("Your account is switched off."))
    if action == Action.CONFIGURE:
        if not has_capability(actor, roles.SETTINGS):
            raise AccessDenied(_("Only a workspace administrator can change this."))
        return
    model = type(record) if record is not None else model
    if model is None:
        if action == Action.CREATE and not any(
            scope_for(actor, record_type, Action.CREATE) != roles.NONE for record_type in OWNER_FIELD
        ):
            raise AccessDenied(_("Your role doesn't allow creating records."))
        return
    record_type = record_type_of(model)
    if record_type not in OWNER_FIELD:
        return
    if record is None or action == Action.CREATE:
        if scope_for(actor, record_type, action) == roles.NONE:
            raise AccessDenied(_("Your role doesn't allow this."))
        return
    same_record = type(record).all_objects.filter(pk=record.pk)
    if visible(same_record, actor=actor, action=action).exists():
        return
    # What the actor cannot even see looks missing (404), like another tenant's record.
    if action == Action.VIEW or not visible(same_record, actor=actor, action=Action.VIEW).exists():
        raise RecordNotFound(_("This record does not exist or is not shared with you."))
    raise AccessDenied(_("Your role doesn't allow this for this record."))
