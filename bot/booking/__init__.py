"""Booking a meeting with a consultant in the chat (issue 14).

``settings``   the office's rules (working hours, days off, buffer, notice), from settings.yml;
``slots``      the free slots: those rules minus the busy time of the consultants' calendars;
``wishes``     what a visitor says about when (« plutôt le matin », « pas ce jour-là »…);
``calendar``   the CalDAV calendars behind a small interface (Radicale by default);
``invitation`` the iCalendar invitation (METHOD:REQUEST / CANCEL) and its e-mail;
``service``    the facade the actions call: propose, book (race-safe), cancel, move, list;
``dialogue``   what one visitor message means while Marc shows slots or asks phone or video.

Nothing here knows Rasa.
"""
