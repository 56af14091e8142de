#!/bin/sh
# /usr/bin/counter-app: starts the bundle in /opt/counter-app.
#
# Chinese input on UOS/Kylin: the desktop runs fcitx, but Qt's fcitx plugin is built against the
# system Qt, not the Qt inside the bundle, so it cannot load. fcitx5 also serves the ibus protocol,
# which the bundled Qt does speak: point Qt at it when the session asks for fcitx.
case "${QT_IM_MODULE:-}" in
    fcitx*) QT_IM_MODULE=ibus; export QT_IM_MODULE ;;
esac
exec /opt/counter-app/counter-app "$@"
