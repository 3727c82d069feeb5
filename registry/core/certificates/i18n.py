"""Labels and vocabularies of Tamga's PDFs in Kazakh, Russian and English.

The core has no Flask-Babel, so the few strings a certificate needs live here
as plain dictionaries. A layout language is one code (``"kk"``, ``"ru"``,
``"en"``) or two joined by ``+``; ``"kk+ru"`` is the bilingual layout of
official Kazakh documents (Kazakh first, Russian under it).
"""

from __future__ import annotations

from registry.core.errors import ValidationFailed

LANGUAGES = ("kk", "ru", "en")
DEFAULT_LANG = "kk+ru"

Texts = dict[str, str]

LABELS: dict[str, Texts] = {
    "certificate_title": {
        "kk": "Тіркеу туралы куәлік",
        "ru": "Свидетельство о регистрации",
        "en": "Certificate of registration",
    },
    "registry_name": {
        "kk": "Авторлық құқық объектілерінің тізілімі",
        "ru": "Реестр объектов авторского права",
        "en": "Registry of copyright works",
    },
    "registration_number": {
        "kk": "Тіркеу нөмірі",
        "ru": "Регистрационный номер",
        "en": "Registration number",
    },
    "registered_at": {
        "kk": "Тіркелген уақыты",
        "ru": "Дата и время регистрации",
        "en": "Registration time",
    },
    "almaty_time": {"kk": "Алматы уақыты", "ru": "время Алматы", "en": "Almaty time"},
    "status": {"kk": "Мәртебесі", "ru": "Статус", "en": "Status"},
    "registrant": {"kk": "Өтініш беруші", "ru": "Заявитель", "en": "Registrant"},
    "work_title": {
        "kk": "Туынды атауы",
        "ru": "Название произведения",
        "en": "Title of the work",
    },
    "original_title": {
        "kk": "Түпнұсқа атауы",
        "ru": "Оригинальное название",
        "en": "Original title",
    },
    "work_type": {"kk": "Туынды түрі", "ru": "Вид произведения", "en": "Kind of work"},
    "authors": {"kk": "Авторлар", "ru": "Авторы", "en": "Authors"},
    "share": {"kk": "үлесі", "ru": "доля", "en": "share"},
    "created_on": {"kk": "Жасалған күні", "ru": "Дата создания", "en": "Date of creation"},
    "publication": {"kk": "Жариялануы", "ru": "Опубликование", "en": "Publication"},
    "published": {"kk": "Жарияланған", "ru": "Опубликовано", "en": "Published"},
    "not_published": {"kk": "Жарияланбаған", "ru": "Не опубликовано", "en": "Not published"},
    "ai_declaration": {
        "kk": "Жасанды интеллектті пайдалану",
        "ru": "Использование искусственного интеллекта",
        "en": "Use of artificial intelligence",
    },
    "ai_tools": {"kk": "ЖИ құралдары", "ru": "Инструменты ИИ", "en": "AI tools"},
    "human_contribution": {
        "kk": "Адамның шығармашылық үлесі",
        "ru": "Творческий вклад человека",
        "en": "Human creative contribution",
    },
    "licence": {"kk": "Лицензия", "ru": "Лицензия", "en": "Licence"},
    "files_section": {
        "kk": "Файлдар және цифрлық іздер",
        "ru": "Файлы и цифровые отпечатки",
        "en": "Files and fingerprints",
    },
    "fingerprint": {"kk": "Цифрлық із", "ru": "Цифровой отпечаток", "en": "Content fingerprint"},
    "iscc": {"kk": "ISCC коды", "ru": "Код ISCC", "en": "ISCC code"},
    "ledger_section": {
        "kk": "Ашық тізілім журналы",
        "ru": "Публичный журнал реестра",
        "en": "Public ledger",
    },
    "leaf_index": {
        "kk": "Журналдағы жазба нөмірі",
        "ru": "Номер записи в журнале",
        "en": "Ledger entry index",
    },
    "checkpoint": {"kk": "Бақылау нүктесі", "ru": "Контрольная точка", "en": "Checkpoint"},
    "tree_size": {"kk": "жазбалар саны", "ru": "число записей", "en": "tree size"},
    "root_hash": {"kk": "Түбір хэші", "ru": "Корневой хеш", "en": "Root hash"},
    "signature": {
        "kk": "Тізілімнің қолтаңбасы",
        "ru": "Подпись реестра",
        "en": "Registry signature",
    },
    "inclusion_proof": {
        "kk": "Енгізу дәлелі",
        "ru": "Доказательство включения",
        "en": "Inclusion proof",
    },
    "proof_empty": {
        "kk": "бос: жазба ағаштың түбірі болып табылады",
        "ru": "пусто: запись является корнем дерева",
        "en": "empty: the entry is the root of the tree",
    },
    "verification_section": {"kk": "Тексеру", "ru": "Проверка", "en": "Verification"},
    "verify_online": {"kk": "Онлайн тексеру", "ru": "Онлайн-проверка", "en": "Verify online"},
    "verify_offline": {
        "kk": (
            "Бұл PDF өз дәлелін қамтиды (қоса берілген tamga-proof.json файлы: журнал "
            "жазбасы, енгізу дәлелі және қол қойылған бақылау нүктесі) және тізілімнің "
            "электрондық қолтаңбасымен куәландырылған. Оны кез келген адам Tamga "
            "серверінсіз тексере алады:"
        ),
        "ru": (
            "Этот PDF содержит собственное доказательство (вложенный файл tamga-proof.json: "
            "запись журнала, доказательство включения и подписанная контрольная точка) и "
            "заверен электронной подписью реестра. Любой может проверить его без сервера "
            "Tamga:"
        ),
        "en": (
            "This PDF carries its own proof (the attached file tamga-proof.json: the ledger "
            "entry, the inclusion proof and the signed checkpoint) and is signed by the "
            "registry. Anyone can check it without the Tamga server:"
        ),
    },
    "verify_offline_checks": {
        "kk": (
            "Тексеру тізілім қолтаңбасын, жазбаның бақылау нүктесіне енгізілгенін және "
            "түпнұсқа файлдың SHA-256 хэші тіркелген хэшпен сәйкес келетінін растайды."
        ),
        "ru": (
            "Проверка подтверждает подпись реестра, включение записи в контрольную точку и "
            "совпадение SHA-256 оригинального файла с зарегистрированным хешем."
        ),
        "en": (
            "It confirms the registry's signature, that the entry is included in the "
            "checkpoint, and that the SHA-256 of the original file equals the registered hash."
        ),
    },
    "not_stated": {"kk": "көрсетілмеген", "ru": "не указано", "en": "not stated"},
    "page": {"kk": "бет", "ru": "стр.", "en": "page"},
}

REPORT_LABELS: dict[str, Texts] = {
    "report_title": {
        "kk": "Салыстыру есебі",
        "ru": "Отчёт о сравнении",
        "en": "Comparison report",
    },
    "case_number": {"kk": "Іс нөмірі", "ru": "Номер дела", "en": "Case number"},
    "generated_at": {
        "kk": "Есеп жасалған уақыт",
        "ru": "Дата составления",
        "en": "Generated",
    },
    "parties": {"kk": "Тараптар", "ru": "Стороны", "en": "Parties"},
    "works_compared": {
        "kk": "Салыстырылған туындылар",
        "ru": "Сравниваемые произведения",
        "en": "Works compared",
    },
    "similarity": {"kk": "Ұқсастық", "ru": "Сходство", "en": "Similarity"},
    "similarity_note": {
        "kk": "Ұқсастық бағасы автоматты түрде есептелген және құқықтық қорытынды емес.",
        "ru": "Оценка сходства вычислена автоматически и не является юридическим заключением.",
        "en": "The similarity score is computed automatically and is not a legal finding.",
    },
    "audio_alignment": {
        "kk": "Аудио сәйкестігі",
        "ru": "Совпадение аудио",
        "en": "Audio alignment",
    },
    "query_time": {
        "kk": "Тексерілетін туынды, с",
        "ru": "Проверяемое произведение, с",
        "en": "Questioned work, s",
    },
    "work_time": {
        "kk": "Тіркелген туынды, с",
        "ru": "Зарегистрированное произведение, с",
        "en": "Registered work, s",
    },
    "matched_segments": {
        "kk": "Сәйкес бөліктер",
        "ru": "Совпадающие фрагменты",
        "en": "Matched segments",
    },
    "matched_duration": {
        "kk": "Сәйкестіктердің жалпы ұзақтығы",
        "ru": "Общая длительность совпадений",
        "en": "Total matched duration",
    },
    "image_comparison": {
        "kk": "Суреттерді салыстыру",
        "ru": "Сравнение изображений",
        "en": "Image comparison",
    },
    "distances": {"kk": "Қашықтықтар", "ru": "Расстояния", "en": "Distances"},
    "transformation": {
        "kk": "Анықталған түрлендіру",
        "ru": "Обнаруженное преобразование",
        "en": "Detected transformation",
    },
    "timeline": {"kk": "Оқиғалар хронологиясы", "ru": "Хронология событий", "en": "Timeline"},
    "decision": {"kk": "Шешім", "ru": "Решение", "en": "Decision"},
    "reason": {"kk": "Негіздеме", "ru": "Обоснование", "en": "Reason"},
    "no_decision": {
        "kk": "Шешім әлі қабылданған жоқ",
        "ru": "Решение ещё не принято",
        "en": "No decision yet",
    },
    "query_work": {
        "kk": "Тексерілетін туынды",
        "ru": "Проверяемое произведение",
        "en": "Questioned work",
    },
    "registered_work": {
        "kk": "Тіркелген туынды",
        "ru": "Зарегистрированное произведение",
        "en": "Registered work",
    },
    "not_registered": {"kk": "тіркелмеген", "ru": "не зарегистрировано", "en": "not registered"},
    "seconds": {"kk": "с", "ru": "с", "en": "s"},
}
LABELS.update(REPORT_LABELS)

VOCABULARIES: dict[str, dict[str, Texts]] = {
    "work_type": {
        "musical_work": {
            "kk": "Музыкалық шығарма",
            "ru": "Музыкальное произведение",
            "en": "Musical work",
        },
        "sound_recording": {"kk": "Дыбыс жазбасы", "ru": "Фонограмма", "en": "Sound recording"},
        "photograph": {
            "kk": "Фотосурет",
            "ru": "Фотографическое произведение",
            "en": "Photograph",
        },
        "artwork": {
            "kk": "Бейнелеу өнері туындысы",
            "ru": "Произведение изобразительного искусства",
            "en": "Work of visual art",
        },
        "audiovisual": {
            "kk": "Аудиовизуалдық туынды",
            "ru": "Аудиовизуальное произведение",
            "en": "Audiovisual work",
        },
        "other": {"kk": "Басқа туынды", "ru": "Другое произведение", "en": "Other work"},
    },
    "role": {
        "author": {"kk": "Автор", "ru": "Автор", "en": "Author"},
        "composer": {"kk": "Композитор", "ru": "Композитор", "en": "Composer"},
        "lyricist": {"kk": "Сөз авторы", "ru": "Автор текста", "en": "Lyricist"},
        "arranger": {"kk": "Аранжировка авторы", "ru": "Аранжировщик", "en": "Arranger"},
        "performer": {"kk": "Орындаушы", "ru": "Исполнитель", "en": "Performer"},
        "producer": {"kk": "Продюсер", "ru": "Продюсер", "en": "Producer"},
        "photographer": {"kk": "Фотограф", "ru": "Фотограф", "en": "Photographer"},
        "artist": {"kk": "Суретші", "ru": "Художник", "en": "Artist"},
        "illustrator": {"kk": "Иллюстратор", "ru": "Иллюстратор", "en": "Illustrator"},
        "designer": {"kk": "Дизайнер", "ru": "Дизайнер", "en": "Designer"},
        "director": {"kk": "Режиссер", "ru": "Режиссёр", "en": "Director"},
        "screenwriter": {"kk": "Сценарий авторы", "ru": "Сценарист", "en": "Screenwriter"},
        "cinematographer": {
            "kk": "Оператор-қоюшы",
            "ru": "Оператор-постановщик",
            "en": "Cinematographer",
        },
        "translator": {"kk": "Аудармашы", "ru": "Переводчик", "en": "Translator"},
        "other": {"kk": "Басқа рөл", "ru": "Другая роль", "en": "Other role"},
    },
    "ai_use": {
        "none": {"kk": "ЖИ пайдаланылмаған", "ru": "ИИ не использовался", "en": "No AI used"},
        "ai_assisted": {
            "kk": "ЖИ көмегімен жасалған",
            "ru": "Создано с помощью ИИ",
            "en": "Created with AI assistance",
        },
        "ai_generated": {
            "kk": "ЖИ арқылы генерацияланған",
            "ru": "Сгенерировано ИИ",
            "en": "Generated by AI",
        },
    },
    "licence": {
        "all_rights_reserved": {
            "kk": "Барлық құқықтар қорғалған",
            "ru": "Все права защищены",
            "en": "All rights reserved",
        },
        "cc_by": {"kk": "CC BY 4.0", "ru": "CC BY 4.0", "en": "CC BY 4.0"},
        "cc_by_sa": {"kk": "CC BY-SA 4.0", "ru": "CC BY-SA 4.0", "en": "CC BY-SA 4.0"},
        "cc_by_nd": {"kk": "CC BY-ND 4.0", "ru": "CC BY-ND 4.0", "en": "CC BY-ND 4.0"},
        "cc_by_nc": {"kk": "CC BY-NC 4.0", "ru": "CC BY-NC 4.0", "en": "CC BY-NC 4.0"},
        "cc_by_nc_sa": {"kk": "CC BY-NC-SA 4.0", "ru": "CC BY-NC-SA 4.0", "en": "CC BY-NC-SA 4.0"},
        "cc_by_nc_nd": {"kk": "CC BY-NC-ND 4.0", "ru": "CC BY-NC-ND 4.0", "en": "CC BY-NC-ND 4.0"},
        "cc0": {
            "kk": "CC0 1.0 (қоғамдық игілікке беру)",
            "ru": "CC0 1.0 (передача в общественное достояние)",
            "en": "CC0 1.0 (public domain dedication)",
        },
    },
    "status": {
        "registered": {"kk": "Тіркелген", "ru": "Зарегистрировано", "en": "Registered"},
        "conflict": {
            "kk": "Ықтимал қайшылық анықталды",
            "ru": "Выявлен возможный конфликт",
            "en": "Possible conflict found",
        },
        "questioned": {"kk": "Даулы", "ru": "Оспаривается", "en": "Questioned"},
        "withdrawn": {"kk": "Кері қайтарып алынған", "ru": "Отозвано", "en": "Withdrawn"},
    },
    "file_role": {
        "main": {"kk": "Негізгі файл", "ru": "Основной файл", "en": "Main file"},
        "supporting": {"kk": "Қосымша файл", "ru": "Дополнительный файл", "en": "Supporting file"},
    },
    "party_role": {
        "claimant": {"kk": "Талапкер", "ru": "Заявитель", "en": "Claimant"},
        "respondent": {"kk": "Жауапкер", "ru": "Ответчик", "en": "Respondent"},
    },
    "transformation": {
        "none": {"kk": "Жоқ", "ru": "Нет", "en": "None"},
        "crop": {"kk": "Қию", "ru": "Обрезка", "en": "Crop"},
        "resize": {"kk": "Өлшемін өзгерту", "ru": "Изменение размера", "en": "Resize"},
        "rotate": {"kk": "Бұру", "ru": "Поворот", "en": "Rotation"},
        "mirror": {"kk": "Айналық бейнелеу", "ru": "Зеркальное отражение", "en": "Mirror image"},
        "colour": {"kk": "Түсін өзгерту", "ru": "Изменение цвета", "en": "Colour change"},
        "recompress": {"kk": "Қайта сығу", "ru": "Повторное сжатие", "en": "Recompression"},
    },
    "outcome": {
        "upheld": {
            "kk": "Талап қанағаттандырылды",
            "ru": "Требование удовлетворено",
            "en": "Claim upheld",
        },
        "rejected": {
            "kk": "Талап қанағаттандырылмады",
            "ru": "В требовании отказано",
            "en": "Claim rejected",
        },
        "settled": {
            "kk": "Тараптар келісімге келді",
            "ru": "Стороны урегулировали спор",
            "en": "Settled by the parties",
        },
        "withdrawn": {
            "kk": "Талап кері қайтарылды",
            "ru": "Требование отозвано",
            "en": "Claim withdrawn",
        },
        "referred_to_court": {
            "kk": "Сотқа жіберілді",
            "ru": "Передано в суд",
            "en": "Referred to court",
        },
    },
    "fingerprint_kind": {
        "audio": {"kk": "аудио", "ru": "аудио", "en": "audio"},
        "image": {"kk": "сурет", "ru": "изображение", "en": "image"},
    },
}


def parse_lang(lang: str) -> tuple[str, ...]:
    """``"kk+ru"`` -> ``("kk", "ru")``; one or two distinct known codes, else an error."""
    codes = tuple(part.strip().lower() for part in lang.split("+"))
    if not 1 <= len(codes) <= 2 or len(set(codes)) != len(codes):
        raise ValidationFailed(f"unsupported certificate language {lang!r}", lang=lang)
    for code in codes:
        if code not in LANGUAGES:
            raise ValidationFailed(f"unsupported certificate language {lang!r}", lang=lang)
    return codes


def label(key: str, lang: str) -> str:
    """One label in one language code."""
    return LABELS[key][lang]


def term(vocabulary: str, code: str, lang: str) -> str:
    """A vocabulary code in one language; an unknown code is shown as itself."""
    texts = VOCABULARIES[vocabulary].get(code)
    return texts[lang] if texts else code


def is_known(vocabulary: str, code: str) -> bool:
    return code in VOCABULARIES[vocabulary]
