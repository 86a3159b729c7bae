//! Every word of the preference center's pages, in one place, per language. A language is a
//! [`Words`] value: the compiler makes sure each one says everything. The page picks one from
//! the browser's `Accept-Language` (or `?lang=`), English when it names none we have.

use crate::domain::consent::Purpose;
use crate::domain::ChannelKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best language an `Accept-Language` header asks for (quality values honoured, at
    /// most 20 entries read), English when none is ours.
    pub fn negotiate(header: &str) -> Lang {
        let mut best: Option<(u32, Lang)> = None;
        for (i, part) in header.split(',').take(20).enumerate() {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q.is_nan() || q <= 0.0 || q > 1.0 {
                continue;
            }
            let Some(lang) = Lang::from_code(tag) else {
                continue;
            };
            // Higher quality wins; the earlier entry on a tie.
            let score = (q * 1000.0) as u32 * 100 + (99 - i.min(99) as u32);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Es => &ES,
        }
    }
}

/// The page's words. `{}` in a field is filled by the page (once, in order).
#[derive(Debug)]
pub struct Words {
    pub title: &'static str,
    pub intro: &'static str,
    pub channels_heading: &'static str,
    pub channels_help: &'static str,
    pub col_address: &'static str,
    pub support: &'static str,
    pub marketing: &'static str,
    pub texted_stop: &'static str,
    pub removal_asked: &'static str,
    pub preferred_heading: &'static str,
    pub preferred_none: &'static str,
    pub quiet_heading: &'static str,
    pub quiet_help: &'static str,
    pub quiet_from: &'static str,
    pub quiet_until: &'static str,
    pub zone: &'static str,
    /// The time zone list's first entry while the customer has chosen none.
    pub zone_unset: &'static str,
    pub frequency_heading: &'static str,
    pub frequency_none: &'static str,
    pub frequency_once_day: &'static str,
    pub frequency_three_week: &'static str,
    pub frequency_once_week: &'static str,
    pub frequency_once_month: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub nothing_changed: &'static str,
    pub add_heading: &'static str,
    pub add_help: &'static str,
    pub add_kind_label: &'static str,
    pub add_kind_email: &'static str,
    pub add_kind_phone: &'static str,
    pub add_value: &'static str,
    pub send_code: &'static str,
    pub code_sent: &'static str,
    pub code_waiting: &'static str,
    pub code_label: &'static str,
    pub confirm_code: &'static str,
    pub code_wrong: &'static str,
    pub code_expired: &'static str,
    pub code_added: &'static str,
    pub code_limit: &'static str,
    pub add_invalid: &'static str,
    pub cannot_send_there: &'static str,
    pub remove_heading: &'static str,
    pub remove_help: &'static str,
    pub remove_button: &'static str,
    pub removal_done: &'static str,
    pub quiet_one_missing: &'static str,
    pub quiet_not_a_time: &'static str,
    pub quiet_same: &'static str,
    /// Quiet hours sent without a time zone (none chosen yet).
    pub quiet_needs_zone: &'static str,
    pub bad_zone: &'static str,
    pub bad_frequency: &'static str,
    pub link_garbled_title: &'static str,
    pub link_garbled: &'static str,
    pub link_forged_title: &'static str,
    pub link_forged: &'static str,
    pub link_old_title: &'static str,
    pub link_expired: &'static str,
    pub link_merged: &'static str,
    pub link_removed: &'static str,
    pub fresh_button: &'static str,
    pub fresh_sent: &'static str,
    pub fresh_nowhere: &'static str,
    pub fresh_limit: &'static str,
    pub too_many: &'static str,
    pub failed_title: &'static str,
    pub failed: &'static str,
    pub other_site: &'static str,
    pub language: &'static str,
    /// The website chat's name (the other channels are brand names, not translated).
    pub website_chat: &'static str,
    pub code_message: &'static str,
    pub link_message: &'static str,
}

impl Words {
    pub fn purpose(&self, p: Purpose) -> &'static str {
        match p {
            Purpose::Support => self.support,
            Purpose::Marketing => self.marketing,
        }
    }

    /// Channel names as customers know them (brand names are not translated).
    pub fn channel(&self, c: ChannelKind) -> &'static str {
        match c {
            ChannelKind::Chat => self.website_chat,
            _ => c.label(),
        }
    }

    pub fn frequency(&self, f: (u32, u32)) -> &'static str {
        match f {
            (1, 1) => self.frequency_once_day,
            (3, 7) => self.frequency_three_week,
            (1, 7) => self.frequency_once_week,
            (1, 30) => self.frequency_once_month,
            _ => self.frequency_none,
        }
    }
}

/// Fills the `{}` in `template` with `value`.
pub fn fill(template: &str, value: &str) -> String {
    template.replacen("{}", value, 1)
}

pub static EN: Words = Words {
    title: "How we reach you",
    intro: "Choose how, when and for what we may contact you. Changes take effect at once.",
    channels_heading: "Where we may reach you",
    channels_help: "Untick a box and we will not use that address or number for it.",
    col_address: "Address or number",
    support: "Answers to your questions",
    marketing: "News and offers",
    texted_stop: "You texted STOP to us. Text START to this number to get texts again.",
    removal_asked: "You asked us to remove this; we no longer use it.",
    preferred_heading: "Your preferred channel",
    preferred_none: "No preference",
    quiet_heading: "Quiet hours",
    quiet_help: "We will not send news and offers between these times. Leave both empty for none.",
    quiet_from: "From",
    quiet_until: "Until",
    zone: "Your time zone",
    zone_unset: "Choose your time zone",
    frequency_heading: "How often we may send news and offers",
    frequency_none: "No limit",
    frequency_once_day: "At most once a day",
    frequency_three_week: "At most 3 times a week",
    frequency_once_week: "At most once a week",
    frequency_once_month: "At most once a month",
    save: "Save my choices",
    saved: "Your choices are saved.",
    nothing_changed: "Nothing changed.",
    add_heading: "Add an email address or phone number",
    add_help: "We will send a code to it. It is added once you type the code here.",
    add_kind_label: "What to add",
    add_kind_email: "Email address",
    add_kind_phone: "Mobile number (with country code)",
    add_value: "Address or number",
    send_code: "Send me a code",
    code_sent: "If we can reach {}, a code is on its way. It works for 15 minutes.",
    code_waiting: "Type the code we sent to {}.",
    code_label: "The code we sent",
    confirm_code: "Confirm",
    code_wrong: "That code is not right. Check it, or ask for a new one.",
    code_expired: "That code has expired or was used too many times. Ask for a new one.",
    code_added: "Added. We may now reach you at {} as you choose above.",
    code_limit: "Too many codes were asked for. Try again in an hour.",
    add_invalid: "That does not look like an email address or a phone number with its country code.",
    cannot_send_there: "We cannot send codes there yet. Write to us and we will add it for you.",
    remove_heading: "Remove an address or number",
    remove_help: "We stop using it at once and remove it from your records.",
    remove_button: "Remove",
    removal_done: "We will not use {} any more.",
    quiet_one_missing: "Give both times for quiet hours, or leave both empty.",
    quiet_not_a_time: "Write quiet hours as times, like 22:00.",
    quiet_same: "Quiet hours need two different times.",
    quiet_needs_zone: "Choose your time zone, so quiet hours follow your clock.",
    bad_zone: "Pick a time zone from the list.",
    bad_frequency: "Pick how often from the list.",
    link_garbled_title: "This link is incomplete",
    link_garbled: "This link is damaged or cut short. Open it again from our message, or copy the whole link into your browser.",
    link_forged_title: "This link is not valid",
    link_forged: "We did not send this link. Use the link in one of our messages.",
    link_old_title: "This link no longer works",
    link_expired: "Links to your choices work for 30 days, and this one is older.",
    link_merged: "Your records were brought together since we sent this link, so it no longer applies.",
    link_removed: "The address or number this link was sent to is no longer in our records, so this link no longer works. We can send a new one to another address of yours on the same channel.",
    fresh_button: "Send me a new link",
    fresh_sent: "A new link is on its way to you, by the same channel as this one.",
    fresh_nowhere: "We hold no other address of yours on that channel, so we cannot send a new link. Write to us to change your choices.",
    fresh_limit: "We sent a new link a few minutes ago. Check your messages.",
    too_many: "Too many attempts. Wait a few minutes and try again.",
    failed_title: "Something went wrong",
    failed: "We could not do that just now; it has been logged. Please try again in a few minutes.",
    other_site: "This form was sent from another site, so nothing was changed. Open the link from our message again.",
    language: "Language",
    website_chat: "Website chat",
    code_message: "Your code to add this address to your preferences is {}. It works for 15 minutes. If you did not ask for it, ignore this message.",
    link_message: "Choose how we reach you: {}",
};

pub static ES: Words = Words {
    title: "Cómo te contactamos",
    intro: "Elige cómo, cuándo y para qué podemos contactarte. Los cambios se aplican enseguida.",
    channels_heading: "Dónde podemos contactarte",
    channels_help: "Desmarca una casilla y no usaremos esa dirección o número para ello.",
    col_address: "Dirección o número",
    support: "Respuestas a tus preguntas",
    marketing: "Novedades y ofertas",
    texted_stop: "Nos enviaste STOP. Envía START a este número para volver a recibir SMS.",
    removal_asked: "Nos pediste eliminarlo; ya no lo usamos.",
    preferred_heading: "Tu canal preferido",
    preferred_none: "Sin preferencia",
    quiet_heading: "Horas de silencio",
    quiet_help: "No enviaremos novedades ni ofertas entre estas horas. Deja ambas vacías si no quieres ninguna.",
    quiet_from: "Desde",
    quiet_until: "Hasta",
    zone: "Tu zona horaria",
    zone_unset: "Elige tu zona horaria",
    frequency_heading: "Con qué frecuencia podemos enviarte novedades y ofertas",
    frequency_none: "Sin límite",
    frequency_once_day: "Como mucho una vez al día",
    frequency_three_week: "Como mucho 3 veces por semana",
    frequency_once_week: "Como mucho una vez por semana",
    frequency_once_month: "Como mucho una vez al mes",
    save: "Guardar mis preferencias",
    saved: "Tus preferencias están guardadas.",
    nothing_changed: "No ha cambiado nada.",
    add_heading: "Añadir un correo o un teléfono",
    add_help: "Te enviaremos un código. Se añade cuando escribas el código aquí.",
    add_kind_label: "Qué añadir",
    add_kind_email: "Correo electrónico",
    add_kind_phone: "Móvil (con prefijo del país)",
    add_value: "Dirección o número",
    send_code: "Enviarme un código",
    code_sent: "Si podemos llegar a {}, el código está en camino. Vale 15 minutos.",
    code_waiting: "Escribe el código que enviamos a {}.",
    code_label: "El código que te enviamos",
    confirm_code: "Confirmar",
    code_wrong: "Ese código no es correcto. Revísalo o pide uno nuevo.",
    code_expired: "Ese código ha caducado o se intentó demasiadas veces. Pide uno nuevo.",
    code_added: "Añadido. Ahora podemos contactarte en {} como elegiste arriba.",
    code_limit: "Se pidieron demasiados códigos. Inténtalo de nuevo en una hora.",
    add_invalid: "No parece un correo electrónico ni un teléfono con prefijo del país.",
    cannot_send_there: "Aún no podemos enviar códigos ahí. Escríbenos y lo añadiremos por ti.",
    remove_heading: "Eliminar una dirección o un número",
    remove_help: "Dejamos de usarlo enseguida y lo quitamos de tu ficha.",
    remove_button: "Eliminar",
    removal_done: "Ya no usaremos {}.",
    quiet_one_missing: "Indica las dos horas de silencio, o deja ambas vacías.",
    quiet_not_a_time: "Escribe las horas de silencio como horas, por ejemplo 22:00.",
    quiet_same: "Las horas de silencio necesitan dos horas distintas.",
    quiet_needs_zone: "Elige tu zona horaria, para que las horas de silencio sigan tu reloj.",
    bad_zone: "Elige una zona horaria de la lista.",
    bad_frequency: "Elige la frecuencia de la lista.",
    link_garbled_title: "Este enlace está incompleto",
    link_garbled: "Este enlace está dañado o cortado. Ábrelo de nuevo desde nuestro mensaje, o copia el enlace completo en tu navegador.",
    link_forged_title: "Este enlace no es válido",
    link_forged: "No enviamos este enlace. Usa el enlace de uno de nuestros mensajes.",
    link_old_title: "Este enlace ya no funciona",
    link_expired: "Los enlaces a tus preferencias valen 30 días, y este es más antiguo.",
    link_merged: "Tus datos se unificaron después de enviarte este enlace, así que ya no sirve.",
    link_removed: "La dirección o el número al que enviamos este enlace ya no está en nuestros registros, así que este enlace ya no funciona. Podemos enviarte uno nuevo a otra dirección tuya del mismo canal.",
    fresh_button: "Enviarme un enlace nuevo",
    fresh_sent: "Un enlace nuevo va de camino, por el mismo canal que este.",
    fresh_nowhere: "No tenemos otra dirección tuya en ese canal, así que no podemos enviarte un enlace nuevo. Escríbenos para cambiar tus preferencias.",
    fresh_limit: "Te enviamos un enlace nuevo hace unos minutos. Revisa tus mensajes.",
    too_many: "Demasiados intentos. Espera unos minutos y vuelve a intentarlo.",
    failed_title: "Algo salió mal",
    failed: "No pudimos hacerlo ahora; quedó registrado. Inténtalo de nuevo en unos minutos.",
    other_site: "Este formulario se envió desde otro sitio, así que no cambió nada. Abre de nuevo el enlace de nuestro mensaje.",
    language: "Idioma",
    website_chat: "Chat del sitio web",
    code_message: "Tu código para añadir esta dirección a tus preferencias es {}. Vale 15 minutos. Si no lo pediste, ignora este mensaje.",
    link_message: "Elige cómo te contactamos: {}",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_is_honoured() {
        assert_eq!(Lang::negotiate("es-ES,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(
            Lang::negotiate("fr-FR,fr;q=0.9,en;q=0.5,es;q=0.4"),
            Lang::En
        );
        assert_eq!(Lang::negotiate("en;q=0.2, es;q=0.8"), Lang::Es);
        assert_eq!(Lang::negotiate("de"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("es;q=0"), Lang::En);
        assert_eq!(Lang::negotiate(&"x,".repeat(10_000)), Lang::En);
        assert_eq!(Lang::from_code("ES"), Some(Lang::Es));
    }

    #[test]
    fn every_language_fills_its_placeholders_and_differs_from_english() {
        for l in Lang::ALL {
            let w = l.words();
            for t in [
                w.code_sent,
                w.code_added,
                w.removal_done,
                w.code_message,
                w.link_message,
            ] {
                assert_eq!(t.matches("{}").count(), 1, "{l:?}: {t}");
            }
            assert!(!w.title.is_empty());
        }
        assert_ne!(EN.save, ES.save);
        assert_eq!(
            fill(EN.link_message, "https://x/p/1"),
            "Choose how we reach you: https://x/p/1"
        );
    }
}
