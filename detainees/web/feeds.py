"""Atom feeds: newly published releases, and changes to one person's record."""

from django.contrib.syndication.views import Feed
from django.http import HttpResponseGone
from django.utils.feedgenerator import Atom1Feed

from detainees.domain.fuzzydates import humanize
from detainees.domain.models import Event, EventPerson, Person
from detainees.read.withdrawn import Gone, published_or_gone


def subject_names(event) -> str:
    names = [
        role.person.display_name
        for role in event.people.all()
        if role.role == EventPerson.Role.SUBJECT and role.person.is_public
    ]
    return ", ".join(names) or "Unnamed detainees"


class ReleasesFeed(Feed):
    feed_type = Atom1Feed
    title = "Detainee-release tracker: releases"
    subtitle = "Releases, newest published first."
    link = "/people/?status=released"

    def items(self):
        return (
            Event.objects.public()
            .filter(kind=Event.Kind.RELEASE)
            .prefetch_related("people__person__names")
            .order_by("-created")[:50]
        )

    def item_title(self, item):
        return f"{subject_names(item)} released ({humanize(item.date)})"

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        for role in item.people.all():
            if role.role == EventPerson.Role.SUBJECT and role.person.is_public:
                return role.person.get_absolute_url()
        return "/people/"

    def item_guid(self, item):
        return f"urn:uuid:{item.public_id}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.created

    def item_updateddate(self, item):
        return item.updated


class PersonChangesFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except Gone as gone:
            text = f"Withdrawn: {gone.withdrawal.reason}"
            return HttpResponseGone(text, content_type="text/plain; charset=utf-8")

    def get_object(self, request, slug):
        return published_or_gone(Person.objects.public().prefetch_related("names"), slug=slug)

    def title(self, obj):
        return f"Changes to the record of {obj.display_name}"

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return (
            Event.objects.public()
            .filter(people__person=obj, people__role=EventPerson.Role.SUBJECT)
            .distinct()
            .order_by("-updated")[:50]
        )

    def item_title(self, item):
        return f"{item.get_kind_display()} ({humanize(item.date)}): {item.summary}"

    def item_description(self, item):
        return item.description or item.summary

    def item_link(self, item):
        return self._obj_url

    def get_feed(self, obj, request):
        self._obj_url = obj.get_absolute_url()
        return super().get_feed(obj, request)

    def item_guid(self, item):
        return f"urn:uuid:{item.public_id}:{item.updated.isoformat()}"

    item_guid_is_permalink = False

    def item_updateddate(self, item):
        return item.updated

    def item_pubdate(self, item):
        return item.updated
