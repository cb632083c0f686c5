"""Built-in banner texts beyond English and French: es, de, it, pt, nl, ar, ru, zh.

Same keys as :data:`consentkit.texts.BUILTIN`; a key missing here falls back to the policy's
default language, then English. Right-to-left languages are listed in :data:`RTL_LANGUAGES`.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CATEGORIES", "CORE", "MESSAGES", "RTL_LANGUAGES", "is_rtl"]

#: Primary language subtags written right to left.
RTL_LANGUAGES: Final = frozenset({"ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})


def is_rtl(language: str) -> bool:
    """Whether ``language`` (a BCP 47 tag) is written right to left."""
    return language.split("-", 1)[0].lower() in RTL_LANGUAGES


CORE: Final[dict[str, dict[str, str]]] = {
    "es": {
        "title": "Tu privacidad",
        "body": (
            "Queremos usar cookies y tecnologías similares para los fines que se indican a continuación. "
            "Solo se usa lo necesario para que el sitio funcione hasta que elijas, y puedes cambiar tu "
            "elección en cualquier momento."
        ),
        "accept": "Aceptar",
        "decline": "Rechazar",
    },
    "de": {
        "title": "Ihre Privatsphäre",
        "body": (
            "Wir möchten Cookies und ähnliche Technologien für die unten genannten Zwecke verwenden. "
            "Bis Sie wählen, wird nur verwendet, was für den Betrieb der Website nötig ist; Sie können "
            "Ihre Wahl jederzeit ändern."
        ),
        "accept": "Akzeptieren",
        "decline": "Ablehnen",
    },
    "it": {
        "title": "La tua privacy",
        "body": (
            "Vorremmo usare cookie e tecnologie simili per le finalità indicate di seguito. Finché non "
            "scegli, si usa solo ciò che serve al funzionamento del sito; puoi cambiare la tua scelta in "
            "qualsiasi momento."
        ),
        "accept": "Accetta",
        "decline": "Rifiuta",
    },
    "pt": {
        "title": "A sua privacidade",
        "body": (
            "Gostaríamos de usar cookies e tecnologias semelhantes para as finalidades abaixo. Até que "
            "escolha, só é usado o necessário para o site funcionar, e pode mudar a sua escolha a "
            "qualquer momento."
        ),
        "accept": "Aceitar",
        "decline": "Recusar",
    },
    "nl": {
        "title": "Uw privacy",
        "body": (
            "We willen cookies en vergelijkbare technieken gebruiken voor de doelen hieronder. Tot u "
            "kiest, wordt alleen gebruikt wat nodig is om de site te laten werken; u kunt uw keuze "
            "altijd wijzigen."
        ),
        "accept": "Accepteren",
        "decline": "Weigeren",
    },
    "ar": {
        "title": "خصوصيتك",
        "body": (
            "نود استخدام ملفات تعريف الارتباط والتقنيات المشابهة للأغراض المذكورة أدناه. لا يُستخدم إلا ما "
            "يلزم لعمل الموقع حتى تختار، ويمكنك تغيير اختيارك في أي وقت."
        ),
        "accept": "قبول",
        "decline": "رفض",
    },
    "ru": {
        "title": "Ваша конфиденциальность",
        "body": (
            "Мы хотели бы использовать файлы cookie и похожие технологии для целей, перечисленных ниже. "
            "Пока вы не сделаете выбор, используется только то, что нужно для работы сайта; вы можете "
            "изменить свой выбор в любое время."
        ),
        "accept": "Принять",
        "decline": "Отклонить",
    },
    "zh": {
        "title": "您的隐私",
        "body": "我们希望将 Cookie 及类似技术用于以下目的。在您做出选择之前，只使用网站运行所必需的内容；您可以随时更改您的选择。",
        "accept": "接受",
        "decline": "拒绝",
    },
}

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "es": {
        "settings": "Gestionar opciones",
        "save": "Guardar opciones",
        "privacy_policy": "Política de privacidad",
        "necessary_label": "Estrictamente necesarias",
        "necessary_description": (
            "Necesarias para que el sitio funcione y para recordar tu elección. Siempre activas."
        ),
        "always_on": "Siempre activas",
        "settings_link": "Configuración de cookies",
        "settings_title": "Configuración de cookies",
        "settings_intro": (
            "Elige qué cookies puede usar este sitio. Puedes cambiar tu elección en cualquier momento."
        ),
        "current_choice": "Tu elección actual se hizo el {date}.",
        "no_choice_yet": "Todavía no has hecho ninguna elección.",
        "saved": "Tus opciones se han guardado.",
        "gpc_honored": "Solicitud de exclusión respetada",
        "skip_link": "Ir a la elección de cookies",
        "embed_blocked": "Este contenido de {service} está bloqueado hasta que permitas las cookies de «{category}».",
        "embed_allow": "Permitir «{category}»",
        "back": "Volver al sitio",
        "services": "Servicios",
        "changed": "Desde tu última elección, ha cambiado lo que hay detrás de: {categories}.",
    },
    "de": {
        "settings": "Auswahl verwalten",
        "save": "Auswahl speichern",
        "privacy_policy": "Datenschutzerklärung",
        "necessary_label": "Unbedingt erforderlich",
        "necessary_description": (
            "Nötig, damit die Website funktioniert und sich Ihre Wahl merkt. Immer aktiv."
        ),
        "always_on": "Immer aktiv",
        "settings_link": "Cookie-Einstellungen",
        "settings_title": "Cookie-Einstellungen",
        "settings_intro": (
            "Wählen Sie, welche Cookies diese Website verwenden darf. Sie können Ihre Wahl jederzeit ändern."
        ),
        "current_choice": "Ihre aktuelle Wahl stammt vom {date}.",
        "no_choice_yet": "Sie haben noch keine Wahl getroffen.",
        "saved": "Ihre Auswahl wurde gespeichert.",
        "gpc_honored": "Widerspruch berücksichtigt",
        "skip_link": "Zur Cookie-Auswahl springen",
        "embed_blocked": "Dieser Inhalt von {service} ist blockiert, bis Sie „{category}“-Cookies erlauben.",
        "embed_allow": "„{category}“ erlauben",
        "back": "Zurück zur Website",
        "services": "Dienste",
        "changed": "Seit Ihrer letzten Wahl hat sich geändert, was dahinter steht: {categories}.",
    },
    "it": {
        "settings": "Gestisci scelte",
        "save": "Salva scelte",
        "privacy_policy": "Informativa sulla privacy",
        "necessary_label": "Strettamente necessari",
        "necessary_description": (
            "Servono al funzionamento del sito e a ricordare la tua scelta. Sempre attivi."
        ),
        "always_on": "Sempre attivi",
        "settings_link": "Impostazioni cookie",
        "settings_title": "Impostazioni cookie",
        "settings_intro": (
            "Scegli quali cookie può usare questo sito. Puoi cambiare la tua scelta in qualsiasi momento."
        ),
        "current_choice": "La tua scelta attuale risale al {date}.",
        "no_choice_yet": "Non hai ancora fatto una scelta.",
        "saved": "Le tue scelte sono state salvate.",
        "gpc_honored": "Richiesta di opposizione rispettata",
        "skip_link": "Vai alla scelta dei cookie",
        "embed_blocked": "Questo contenuto di {service} è bloccato finché non consenti i cookie «{category}».",
        "embed_allow": "Consenti «{category}»",
        "back": "Torna al sito",
        "services": "Servizi",
        "changed": "Dalla tua ultima scelta è cambiato ciò che c’è dietro: {categories}.",
    },
    "pt": {
        "settings": "Gerir opções",
        "save": "Guardar opções",
        "privacy_policy": "Política de privacidade",
        "necessary_label": "Estritamente necessários",
        "necessary_description": (
            "Necessários para o site funcionar e para lembrar a sua escolha. Sempre ativos."
        ),
        "always_on": "Sempre ativos",
        "settings_link": "Definições de cookies",
        "settings_title": "Definições de cookies",
        "settings_intro": (
            "Escolha que cookies este site pode usar. Pode mudar a sua escolha a qualquer momento."
        ),
        "current_choice": "A sua escolha atual foi feita em {date}.",
        "no_choice_yet": "Ainda não fez nenhuma escolha.",
        "saved": "As suas opções foram guardadas.",
        "gpc_honored": "Pedido de oposição respeitado",
        "skip_link": "Ir para a escolha de cookies",
        "embed_blocked": "Este conteúdo de {service} está bloqueado até permitir os cookies «{category}».",
        "embed_allow": "Permitir «{category}»",
        "back": "Voltar ao site",
        "services": "Serviços",
        "changed": "Desde a sua última escolha, mudou o que está por trás de: {categories}.",
    },
    "nl": {
        "settings": "Keuzes beheren",
        "save": "Keuzes opslaan",
        "privacy_policy": "Privacybeleid",
        "necessary_label": "Strikt noodzakelijk",
        "necessary_description": (
            "Nodig om de site te laten werken en uw keuze te onthouden. Altijd actief."
        ),
        "always_on": "Altijd actief",
        "settings_link": "Cookie-instellingen",
        "settings_title": "Cookie-instellingen",
        "settings_intro": ("Kies welke cookies deze site mag gebruiken. U kunt uw keuze altijd wijzigen."),
        "current_choice": "Uw huidige keuze is gemaakt op {date}.",
        "no_choice_yet": "U hebt nog geen keuze gemaakt.",
        "saved": "Uw keuzes zijn opgeslagen.",
        "gpc_honored": "Bezwaarverzoek gerespecteerd",
        "skip_link": "Naar de cookiekeuze",
        "embed_blocked": "Deze inhoud van {service} is geblokkeerd totdat u ‘{category}’-cookies toestaat.",
        "embed_allow": "‘{category}’ toestaan",
        "back": "Terug naar de site",
        "services": "Diensten",
        "changed": "Sinds uw laatste keuze is veranderd wat erachter zit: {categories}.",
    },
    "ar": {
        "settings": "إدارة الخيارات",
        "save": "حفظ الخيارات",
        "privacy_policy": "سياسة الخصوصية",
        "necessary_label": "ضرورية للغاية",
        "necessary_description": "لازمة لعمل الموقع ولتذكّر اختيارك. مفعّلة دائمًا.",
        "always_on": "مفعّلة دائمًا",
        "settings_link": "إعدادات ملفات تعريف الارتباط",
        "settings_title": "إعدادات ملفات تعريف الارتباط",
        "settings_intro": "اختر ملفات تعريف الارتباط التي يمكن لهذا الموقع استخدامها. يمكنك تغيير اختيارك في أي وقت.",
        "current_choice": "تم اختيارك الحالي في {date}.",
        "no_choice_yet": "لم تقم باختيار بعد.",
        "saved": "تم حفظ خياراتك.",
        "gpc_honored": "تم احترام طلب إلغاء الاشتراك",
        "skip_link": "انتقل إلى اختيار ملفات تعريف الارتباط",
        "embed_blocked": "هذا المحتوى من {service} محظور حتى تسمح بملفات تعريف الارتباط «{category}».",
        "embed_allow": "السماح بـ«{category}»",
        "back": "العودة إلى الموقع",
        "services": "الخدمات",
        "changed": "منذ اختيارك الأخير، تغيّر ما وراء هذه الفئات: {categories}.",
    },
    "ru": {
        "settings": "Настроить выбор",
        "save": "Сохранить выбор",
        "privacy_policy": "Политика конфиденциальности",
        "necessary_label": "Строго необходимые",
        "necessary_description": "Нужны для работы сайта и чтобы запомнить ваш выбор. Всегда включены.",
        "always_on": "Всегда включены",
        "settings_link": "Настройки cookie",
        "settings_title": "Настройки cookie",
        "settings_intro": (
            "Выберите, какие файлы cookie может использовать этот сайт. Вы можете изменить выбор в любое время."
        ),
        "current_choice": "Ваш текущий выбор сделан {date}.",
        "no_choice_yet": "Вы ещё не сделали выбор.",
        "saved": "Ваш выбор сохранён.",
        "gpc_honored": "Запрет на обработку учтён",
        "skip_link": "Перейти к выбору cookie",
        "embed_blocked": "Этот контент {service} заблокирован, пока вы не разрешите cookie «{category}».",
        "embed_allow": "Разрешить «{category}»",
        "back": "Вернуться на сайт",
        "services": "Сервисы",
        "changed": "С момента вашего последнего выбора изменилось содержимое категорий: {categories}.",
    },
    "zh": {
        "settings": "管理选择",
        "save": "保存选择",
        "privacy_policy": "隐私政策",
        "necessary_label": "绝对必要",
        "necessary_description": "网站运行和记住您的选择所必需。始终开启。",
        "always_on": "始终开启",
        "settings_link": "Cookie 设置",
        "settings_title": "Cookie 设置",
        "settings_intro": "选择本网站可以使用哪些 Cookie。您可以随时更改您的选择。",
        "current_choice": "您当前的选择做出于 {date}。",
        "no_choice_yet": "您尚未做出选择。",
        "saved": "您的选择已保存。",
        "gpc_honored": "已遵从退出请求",
        "skip_link": "跳至 Cookie 选择",
        "embed_blocked": "在您允许“{category}”Cookie 之前，此 {service} 内容已被屏蔽。",
        "embed_allow": "允许“{category}”",
        "back": "返回网站",
        "services": "服务",
        "changed": "自您上次选择以来，以下类别背后的内容已更改：{categories}。",
    },
}

CATEGORIES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "es": {
        "functional": ("Funcionales", "Funciones de otras empresas: fuentes, formularios, pagos y antispam."),
        "analytics": ("Analíticas", "Cuentan las visitas y muestran cómo se usa el sitio, para mejorarlo."),
        "marketing": (
            "Marketing",
            "Miden campañas y muestran anuncios; comparten tu visita con empresas publicitarias.",
        ),
        "media": (
            "Contenido integrado",
            "Vídeos, mapas, audio y publicaciones de otros sitios, que pueden rastrearte.",
        ),
    },
    "de": {
        "functional": (
            "Funktional",
            "Funktionen anderer Anbieter: Schriften, Formulare, Zahlungen, Spam-Schutz.",
        ),
        "analytics": (
            "Statistik",
            "Zählen Besuche und zeigen, wie die Website genutzt wird, um sie zu verbessern.",
        ),
        "marketing": (
            "Marketing",
            "Messen Kampagnen und zeigen Werbung; teilen Ihren Besuch mit Werbefirmen.",
        ),
        "media": (
            "Eingebettete Inhalte",
            "Videos, Karten, Audio und Beiträge anderer Websites, die Sie verfolgen können.",
        ),
    },
    "it": {
        "functional": ("Funzionali", "Funzioni di altre aziende: caratteri, moduli, pagamenti e antispam."),
        "analytics": ("Statistiche", "Contano le visite e mostrano come si usa il sito, per migliorarlo."),
        "marketing": (
            "Marketing",
            "Misurano campagne e mostrano pubblicità; condividono la visita con aziende pubblicitarie.",
        ),
        "media": (
            "Contenuti incorporati",
            "Video, mappe, audio e post di altri siti, che possono tracciarti.",
        ),
    },
    "pt": {
        "functional": (
            "Funcionais",
            "Funções de outras empresas: tipos de letra, formulários, pagamentos e antispam.",
        ),
        "analytics": ("Estatísticas", "Contam as visitas e mostram como o site é usado, para o melhorar."),
        "marketing": (
            "Marketing",
            "Medem campanhas e mostram anúncios; partilham a sua visita com empresas de publicidade.",
        ),
        "media": (
            "Conteúdo incorporado",
            "Vídeos, mapas, áudio e publicações de outros sites, que o podem seguir.",
        ),
    },
    "nl": {
        "functional": (
            "Functioneel",
            "Functies van andere bedrijven: lettertypen, formulieren, betalingen, spambeveiliging.",
        ),
        "analytics": (
            "Statistieken",
            "Tellen bezoeken en tonen hoe de site wordt gebruikt, om hem te verbeteren.",
        ),
        "marketing": (
            "Marketing",
            "Meten campagnes en tonen advertenties; delen uw bezoek met advertentiebedrijven.",
        ),
        "media": (
            "Ingesloten inhoud",
            "Video’s, kaarten, audio en berichten van andere sites, die u kunnen volgen.",
        ),
    },
    "ar": {
        "functional": (
            "وظيفية",
            "ميزات تقدّمها شركات أخرى: الخطوط والنماذج والمدفوعات والحماية من الرسائل المزعجة.",
        ),
        "analytics": ("إحصاءات", "تحصي الزيارات وتبيّن كيفية استخدام الموقع لتحسينه."),
        "marketing": ("تسويق", "تقيس الحملات وتعرض الإعلانات؛ وتشارك زيارتك مع شركات الإعلان."),
        "media": ("محتوى مضمّن", "مقاطع فيديو وخرائط وصوتيات ومنشورات من مواقع أخرى قد تتتبّعك."),
    },
    "ru": {
        "functional": (
            "Функциональные",
            "Функции других компаний: шрифты, формы, платежи и защита от спама.",
        ),
        "analytics": (
            "Аналитика",
            "Считают посещения и показывают, как используется сайт, чтобы его улучшить.",
        ),
        "marketing": (
            "Маркетинг",
            "Измеряют кампании и показывают рекламу; передают ваш визит рекламным компаниям.",
        ),
        "media": (
            "Встроенный контент",
            "Видео, карты, аудио и публикации с других сайтов, которые могут отслеживать вас.",
        ),
    },
    "zh": {
        "functional": ("功能", "其他公司提供的功能：字体、表单、支付和反垃圾保护。"),
        "analytics": ("统计分析", "统计访问量并了解网站的使用情况，以便改进。"),
        "marketing": ("营销", "衡量广告活动并展示广告；会与广告公司分享您的访问。"),
        "media": ("嵌入内容", "来自其他网站的视频、地图、音频和帖子，可能会跟踪您。"),
    },
}


def _units(*pairs: tuple[str, str]) -> dict[str, tuple[str, str]]:
    keys = ("second", "minute", "hour", "day", "week", "month", "year")
    return dict(zip(keys, pairs, strict=True))


#: The cookie declaration's words (see :mod:`consentkit.declaration`).
DECLARATION: Final[dict[str, dict[str, object]]] = {
    "es": {
        "caption": "Cookies usadas en este sitio",
        "cookie": "Cookie",
        "provider": "Proveedor",
        "purpose": "Finalidad",
        "duration": "Duración",
        "category": "Categoría",
        "service": "Servicio",
        "this_site": "Este sitio",
        "first": "en este sitio",
        "third": "en el sitio del proveedor",
        "session": "Hasta cerrar el navegador",
        "none": "Este sitio no usa cookies.",
        "vendor_policy": "política de privacidad de {provider}",
        "consent_purpose": "Recuerda tu elección sobre cookies, firmada para que no pueda alterarse.",
        "flash_purpose": "Indica que tu elección se guardó, solo en la página siguiente.",
        "units": _units(
            ("segundo", "segundos"),
            ("minuto", "minutos"),
            ("hora", "horas"),
            ("día", "días"),
            ("semana", "semanas"),
            ("mes", "meses"),
            ("año", "años"),
        ),
    },
    "de": {
        "caption": "Auf dieser Website verwendete Cookies",
        "cookie": "Cookie",
        "provider": "Anbieter",
        "purpose": "Zweck",
        "duration": "Speicherdauer",
        "category": "Kategorie",
        "service": "Dienst",
        "this_site": "Diese Website",
        "first": "auf dieser Website",
        "third": "auf der Website des Anbieters",
        "session": "Bis der Browser geschlossen wird",
        "none": "Diese Website verwendet keine Cookies.",
        "vendor_policy": "Datenschutzerklärung von {provider}",
        "consent_purpose": "Speichert Ihre Cookie-Wahl, signiert, damit sie nicht verändert werden kann.",
        "flash_purpose": "Zeigt nur auf der nächsten Seite, dass Ihre Wahl gespeichert wurde.",
        "units": _units(
            ("Sekunde", "Sekunden"),
            ("Minute", "Minuten"),
            ("Stunde", "Stunden"),
            ("Tag", "Tage"),
            ("Woche", "Wochen"),
            ("Monat", "Monate"),
            ("Jahr", "Jahre"),
        ),
    },
    "it": {
        "caption": "Cookie usati su questo sito",
        "cookie": "Cookie",
        "provider": "Fornitore",
        "purpose": "Finalità",
        "duration": "Durata",
        "category": "Categoria",
        "service": "Servizio",
        "this_site": "Questo sito",
        "first": "su questo sito",
        "third": "sul sito del fornitore",
        "session": "Fino alla chiusura del browser",
        "none": "Questo sito non usa cookie.",
        "vendor_policy": "informativa sulla privacy di {provider}",
        "consent_purpose": "Ricorda la tua scelta sui cookie, firmata perché non possa essere alterata.",
        "flash_purpose": "Indica che la tua scelta è stata salvata, solo nella pagina successiva.",
        "units": _units(
            ("secondo", "secondi"),
            ("minuto", "minuti"),
            ("ora", "ore"),
            ("giorno", "giorni"),
            ("settimana", "settimane"),
            ("mese", "mesi"),
            ("anno", "anni"),
        ),
    },
    "pt": {
        "caption": "Cookies usados neste site",
        "cookie": "Cookie",
        "provider": "Fornecedor",
        "purpose": "Finalidade",
        "duration": "Duração",
        "category": "Categoria",
        "service": "Serviço",
        "this_site": "Este site",
        "first": "neste site",
        "third": "no site do fornecedor",
        "session": "Até fechar o navegador",
        "none": "Este site não usa cookies.",
        "vendor_policy": "política de privacidade de {provider}",
        "consent_purpose": "Lembra a sua escolha sobre cookies, assinada para não poder ser alterada.",
        "flash_purpose": "Indica que a sua escolha foi guardada, apenas na página seguinte.",
        "units": _units(
            ("segundo", "segundos"),
            ("minuto", "minutos"),
            ("hora", "horas"),
            ("dia", "dias"),
            ("semana", "semanas"),
            ("mês", "meses"),
            ("ano", "anos"),
        ),
    },
    "nl": {
        "caption": "Cookies op deze site",
        "cookie": "Cookie",
        "provider": "Aanbieder",
        "purpose": "Doel",
        "duration": "Bewaartermijn",
        "category": "Categorie",
        "service": "Dienst",
        "this_site": "Deze site",
        "first": "op deze site",
        "third": "op de site van de aanbieder",
        "session": "Tot de browser sluit",
        "none": "Deze site gebruikt geen cookies.",
        "vendor_policy": "privacybeleid van {provider}",
        "consent_purpose": "Onthoudt uw cookiekeuze, ondertekend zodat die niet te wijzigen is.",
        "flash_purpose": "Toont alleen op de volgende pagina dat uw keuze is opgeslagen.",
        "units": _units(
            ("seconde", "seconden"),
            ("minuut", "minuten"),
            ("uur", "uur"),
            ("dag", "dagen"),
            ("week", "weken"),
            ("maand", "maanden"),
            ("jaar", "jaar"),
        ),
    },
    "ar": {
        "caption": "ملفات تعريف الارتباط المستخدمة في هذا الموقع",
        "cookie": "ملف تعريف الارتباط",
        "provider": "المزوّد",
        "purpose": "الغرض",
        "duration": "المدة",
        "category": "الفئة",
        "service": "الخدمة",
        "this_site": "هذا الموقع",
        "first": "في هذا الموقع",
        "third": "في موقع المزوّد",
        "session": "حتى إغلاق المتصفح",
        "none": "لا يستخدم هذا الموقع ملفات تعريف الارتباط.",
        "vendor_policy": "سياسة خصوصية {provider}",
        "consent_purpose": "يتذكّر اختيارك بشأن ملفات تعريف الارتباط، موقّعًا كي لا يمكن تغييره.",
        "flash_purpose": "يبيّن أن اختيارك قد حُفظ، في الصفحة التالية فقط.",
        "units": _units(
            ("ثانية", "ثوانٍ"),
            ("دقيقة", "دقائق"),
            ("ساعة", "ساعات"),
            ("يوم", "أيام"),
            ("أسبوع", "أسابيع"),
            ("شهر", "أشهر"),
            ("سنة", "سنوات"),
        ),
    },
    "ru": {
        "caption": "Файлы cookie на этом сайте",
        "cookie": "Cookie",
        "provider": "Поставщик",
        "purpose": "Цель",
        "duration": "Срок хранения",
        "category": "Категория",
        "service": "Сервис",
        "this_site": "Этот сайт",
        "first": "на этом сайте",
        "third": "на сайте поставщика",
        "session": "До закрытия браузера",
        "none": "Этот сайт не использует файлы cookie.",
        "vendor_policy": "политика конфиденциальности {provider}",
        "consent_purpose": "Запоминает ваш выбор по cookie, с подписью, чтобы его нельзя было изменить.",
        "flash_purpose": "Показывает, что ваш выбор сохранён, только на следующей странице.",
        "units": _units(
            ("с", "с"),
            ("мин", "мин"),
            ("ч", "ч"),
            ("дн.", "дн."),
            ("нед.", "нед."),
            ("мес.", "мес."),
            ("г.", "г."),
        ),
    },
    "zh": {
        "caption": "本网站使用的 Cookie",
        "cookie": "Cookie",
        "provider": "提供方",
        "purpose": "用途",
        "duration": "有效期",
        "category": "类别",
        "service": "服务",
        "this_site": "本网站",
        "first": "设置于本网站",
        "third": "设置于提供方网站",
        "session": "直到关闭浏览器",
        "none": "本网站不使用 Cookie。",
        "vendor_policy": "{provider} 的隐私政策",
        "consent_purpose": "记住您的 Cookie 选择，并经签名以防篡改。",
        "flash_purpose": "仅在下一页显示您的选择已保存。",
        "units": _units(
            ("秒", "秒"),
            ("分钟", "分钟"),
            ("小时", "小时"),
            ("天", "天"),
            ("周", "周"),
            ("个月", "个月"),
            ("年", "年"),
        ),
    },
}
